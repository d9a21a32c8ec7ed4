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


#include <stdio.h>

// Error tags are FFERRTAG(...) expressions, which Swift cannot import.
static inline int recap_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int recap_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int recap_averror_demuxer_not_found(void) { return AVERROR_DEMUXER_NOT_FOUND; }
static inline int recap_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int recap_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int recap_qp2lambda(void) { return FF_QP2LAMBDA; }
static inline int recap_probe_score_retry(void) { return AVPROBE_SCORE_RETRY; }

/// FFmpeg's text for an error code, written into buf (av_err2str is a macro with a compound literal).
static inline void recap_strerror(int code, char *buf, size_t size) {
    if (av_strerror(code, buf, size) < 0) snprintf(buf, size, "FFmpeg error %d", code);
}

#endif
