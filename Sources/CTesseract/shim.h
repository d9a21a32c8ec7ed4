// Thin shim over Tesseract's C API (Debian libtesseract-dev).
#ifndef RECAP_CTESSERACT_SHIM_H
#define RECAP_CTESSERACT_SHIM_H
#include <tesseract/capi.h>
#endif
