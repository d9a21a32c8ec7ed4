// Thin C shim over FFmpeg 5.1 (Debian bookworm).
// Only what Swift cannot import by itself lives here: function-like macros and
// constants defined with expressions. Everything else is used directly.
#ifndef RECAP_CFFMPEG_SHIM_H
#define RECAP_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/error.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>

static inline int recap_averror(int posix_errno) { return AVERROR(posix_errno); }
static inline int recap_averror_eof(void) { return AVERROR_EOF; }
static inline int64_t recap_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int recap_time_base(void) { return AV_TIME_BASE; }

#endif
