// Thin shim over whisper.cpp's C API (whisper.h), built by scripts/deps.sh as a
// static library into Recap's cache prefix and found through recap-whisper.pc.
#ifndef RECAP_CWHISPER_SHIM_H
#define RECAP_CWHISPER_SHIM_H
#include <whisper.h>
#endif
