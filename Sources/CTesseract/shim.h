// Thin shim over Tesseract's C API (Debian libtesseract-dev) and the few Leptonica calls Recap needs:
// decoding an image held in memory for OCR, and drawing a text card (with Leptonica's built-in bitmap font)
// that `recap engine check` sends as its test JPEG. Swift above this owns every handle.
#ifndef RECAP_CTESSERACT_SHIM_H
#define RECAP_CTESSERACT_SHIM_H
#include <stddef.h>
#include <stdint.h>
#include <tesseract/capi.h>

// From <leptonica/allheaders.h> (1.82); declared here so the whole Leptonica header set is not imported.
struct Pix;
struct L_Bmf;
struct Pix *pixReadMem(const unsigned char *data, size_t size);
struct Pix *pixCreate(int32_t width, int32_t height, int32_t depth);
int32_t pixSetAllArbitrary(struct Pix *pix, uint32_t val);
struct Pix *pixScale(struct Pix *pixs, float scalex, float scaley);
int32_t pixWriteMem(unsigned char **pdata, size_t *psize, struct Pix *pix, int32_t format);
void pixDestroy(struct Pix **ppix);
// Leptonica prints internal warnings ("Error in pixScanForForeground: invalid box") to stderr; OCR turns
// them off. 7 is L_SEVERITY_NONE in <leptonica/environ.h>.
int32_t setMsgSeverity(int32_t newsev);
#define RECAP_LEPT_SEVERITY_NONE 7
struct L_Bmf *bmfCreate(const char *dir, int32_t fontsize);
void bmfDestroy(struct L_Bmf **pbmf);
int32_t pixSetTextline(struct Pix *pixs, struct L_Bmf *bmf, const char *textstr, uint32_t val, int32_t x0,
                       int32_t y0, int32_t *pwidth, int32_t *poverflow);
void lept_free(void *ptr);
#define RECAP_IFF_JFIF_JPEG 2
#endif
