import CFFmpeg
import Foundation

// Each FFmpeg object is owned by one Swift class whose deinit frees it. None of the raw pointers leave the
// module: the public API returns value types (ProbeInfo, SampledFrame, AudioChunk...).

/// An opened container (AVFormatContext). Validates the path first so directories, FIFOs and empty
/// files fail with their own typed error instead of a hang or a vague FFmpeg message.
final class InputFile {
    let path: String
    private(set) var ctx: UnsafeMutablePointer<AVFormatContext>

    /// - Parameter findStreamInfo: false skips `avformat_find_stream_info` (which decodes frames to learn
    ///   codec parameters) when the container header already states them all, as MP4/MOV/MKV headers do;
    ///   it still runs when any audio or video stream lacks its size, rate or channels (MPEG-TS, raw streams).
    init(path: String, findStreamInfo: Bool = true) throws {
        FFmpegSetup.ensure()
        self.path = path
        try InputFile.checkPath(path)
        FFmpegSetup.clearLastLog()
        var raw: UnsafeMutablePointer<AVFormatContext>? = nil
        let rc = avformat_open_input(&raw, path, nil, nil)
        guard rc >= 0, let opened = raw else {
            throw InputFile.classifyOpenError(path: path, code: rc)
        }
        ctx = opened
        if findStreamInfo || !headerIsComplete() {
            let rc2 = avformat_find_stream_info(ctx, nil)
            if rc2 < 0 { throw MediaError.notMedia(path: path, reason: FFmpegText.error(rc2)) }
        }
        try rejectNonMedia()
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = ctx
        avformat_close_input(&p)
    }

    var streamCount: Int { Int(ctx.pointee.nb_streams) }

    private func headerIsComplete() -> Bool {
        for i in 0..<streamCount {
            let par = stream(i).pointee.codecpar.pointee
            if par.codec_id == AV_CODEC_ID_NONE && (par.codec_type == AVMEDIA_TYPE_VIDEO || par.codec_type == AVMEDIA_TYPE_AUDIO) { return false }
            if par.codec_type == AVMEDIA_TYPE_VIDEO && (par.width <= 0 || par.height <= 0) { return false }
            if par.codec_type == AVMEDIA_TYPE_AUDIO && (par.sample_rate <= 0 || par.ch_layout.nb_channels <= 0) { return false }
        }
        return streamCount > 0
    }

    func stream(_ i: Int) -> UnsafeMutablePointer<AVStream> { ctx.pointee.streams[i]! }

    /// Seconds to subtract so the file's timeline starts at 0 (MPEG-TS files start at e.g. 1.4 s).
    var startOffset: Double {
        let s = ctx.pointee.start_time
        return s == recap_nopts_value() ? 0 : Double(s) / Double(recap_time_base())
    }

    var duration: Double? {
        let d = ctx.pointee.duration
        return d == recap_nopts_value() || d <= 0 ? nil : Double(d) / Double(recap_time_base())
    }

    /// Best stream of a type, skipping cover art (attached pictures) for video.
    func bestStream(_ type: AVMediaType) -> Int? {
        let i = av_find_best_stream(ctx, type, -1, -1, nil, 0)
        if i >= 0 {
            let st = stream(Int(i))
            if type != AVMEDIA_TYPE_VIDEO || st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 {
                return Int(i)
            }
        }
        for j in 0..<streamCount {
            let st = stream(j)
            if st.pointee.codecpar.pointee.codec_type == type,
               st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC == 0 {
                return j
            }
        }
        return nil
    }

    private static func checkPath(_ path: String) throws {
        var st = stat()
        if stat(path, &st) != 0 {
            let err = errno
            if err == ENOENT || err == ENOTDIR { throw MediaError.fileNotFound(path: path) }
            throw MediaError.unreadable(path: path, reason: String(cString: strerror(err)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: throw MediaError.isDirectory(path: path)
        case S_IFREG: break
        default: throw MediaError.notRegularFile(path: path)
        }
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw MediaError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        close(fd)
        if st.st_size == 0 { throw MediaError.emptyFile(path: path) }
    }

    private static func classifyOpenError(path: String, code: Int32) -> MediaError {
        if code == recap_averror(EACCES) || code == recap_averror(EPERM) || code == recap_averror(EIO) {
            return .unreadable(path: path, reason: FFmpegText.error(code, withLog: false))
        }
        if code == recap_averror(ENOENT) { return .fileNotFound(path: path) }
        return .notMedia(path: path, reason: FFmpegText.error(code))
    }

    /// FFmpeg will open almost anything given enough goodwill: `notes.txt` as ANSI art (the tty demuxer),
    /// random bytes as MP3 at a low probe score. Those are not what a user means by media.
    private func rejectNonMedia() throws {
        let name = String(cString: ctx.pointee.iformat.pointee.name)
        if ["tty", "data", "bin", "txt"].contains(name) {
            throw MediaError.notMedia(path: path, reason: "looks like text or binary data (detected as '\(name)')")
        }
        if ctx.pointee.probe_score <= recap_probe_score_retry() {
            throw MediaError.notMedia(
                path: path,
                reason: "only a weak guess that this is '\(name)' (probe score \(ctx.pointee.probe_score)/100)")
        }
        var hasAV = false
        for i in 0..<streamCount {
            let t = stream(i).pointee.codecpar.pointee.codec_type
            if t == AVMEDIA_TYPE_VIDEO || t == AVMEDIA_TYPE_AUDIO { hasAV = true }
        }
        if !hasAV { throw MediaError.notMedia(path: path, reason: "no audio or video streams") }
    }

    /// Bytes the container's index says the file should hold, if it has an index (MP4/MOV always do).
    func indexedEndOffset() -> Int64? {
        var end: Int64 = -1
        for i in 0..<streamCount {
            let st = stream(i)
            let n = avformat_index_get_entries_count(st)
            guard n > 0, let e = avformat_index_get_entry(st, n - 1) else { continue }
            let size = Int64(e.pointee.size)
            if e.pointee.pos >= 0 { end = max(end, e.pointee.pos + size) }
        }
        return end > 0 ? end : nil
    }

    var fileSize: Int64? {
        guard let pb = ctx.pointee.pb else { return nil }
        let s = avio_size(pb)
        return s > 0 ? s : nil
    }

    /// Throws `.truncated` when the index points past the end of the file.
    func checkNotTruncated() throws {
        if let want = indexedEndOffset(), let have = fileSize, want > have {
            throw MediaError.truncated(path: path, expectedBytes: want, actualBytes: have)
        }
    }
}

/// A decoder (AVCodecContext) for one stream of an InputFile.
final class Decoder {
    let ctx: UnsafeMutablePointer<AVCodecContext>
    let streamIndex: Int
    let timeBase: AVRational

    init(input: InputFile, streamIndex: Int, threads: Int32 = 0, configure: (UnsafeMutablePointer<AVCodecContext>) -> Void = { _ in }) throws {
        let st = input.stream(streamIndex)
        let par = st.pointee.codecpar!
        guard let codec = avcodec_find_decoder(par.pointee.codec_id) else {
            throw MediaError.unsupportedCodec(path: input.path, codec: String(cString: avcodec_get_name(par.pointee.codec_id)))
        }
        guard let c = avcodec_alloc_context3(codec) else {
            throw MediaError.ffmpeg(path: input.path, operation: "allocate a decoder", reason: "out of memory")
        }
        ctx = c
        self.streamIndex = streamIndex
        timeBase = st.pointee.time_base
        var rc = avcodec_parameters_to_context(c, par)
        if rc < 0 { throw MediaError.ffmpeg(path: input.path, operation: "configure the decoder", reason: FFmpegText.error(rc)) }
        c.pointee.pkt_timebase = st.pointee.time_base
        c.pointee.thread_count = threads
        configure(c)
        rc = avcodec_open2(c, codec, nil)
        if rc < 0 { throw MediaError.ffmpeg(path: input.path, operation: "open the \(String(cString: codec.pointee.name)) decoder", reason: FFmpegText.error(rc)) }
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = ctx
        avcodec_free_context(&p)
    }
}

/// An AVPacket.
final class Packet {
    let ptr: UnsafeMutablePointer<AVPacket>
    init() { ptr = av_packet_alloc()! }
    deinit { var p: UnsafeMutablePointer<AVPacket>? = ptr; av_packet_free(&p) }
    func unref() { av_packet_unref(ptr) }
}

/// An AVFrame.
final class Frame {
    let ptr: UnsafeMutablePointer<AVFrame>
    init() { ptr = av_frame_alloc()! }
    deinit { var p: UnsafeMutablePointer<AVFrame>? = ptr; av_frame_free(&p) }
    func unref() { av_frame_unref(ptr) }
}

/// A libswscale context, rebuilt only when the source or target geometry changes.
final class Scaler {
    private var ctx: OpaquePointer? = nil
    deinit { sws_freeContext(ctx) }

    /// Converts `frame` into a tightly packed buffer of `dstFormat` at dstW x dstH.
    func convert(_ frame: UnsafePointer<AVFrame>, dstW: Int, dstH: Int, dstFormat: AVPixelFormat, bytesPerPixel: Int,
                 path: String) throws -> [UInt8] {
        let srcFormat = AVPixelFormat(rawValue: frame.pointee.format)
        // Shrinking: area averaging, as sharp as bicubic there and several times cheaper at 1080p and up.
        let shrinking = dstW * 2 <= Int(frame.pointee.width) && dstH * 2 <= Int(frame.pointee.height)
        let flags = shrinking ? SWS_AREA : SWS_BICUBIC | SWS_ACCURATE_RND
        ctx = sws_getCachedContext(ctx, frame.pointee.width, frame.pointee.height, srcFormat,
                                   Int32(dstW), Int32(dstH), dstFormat, flags, nil, nil, nil)
        guard let ctx else {
            throw MediaError.ffmpeg(path: path, operation: "scale frames",
                                    reason: "libswscale cannot convert \(pixelFormatName(srcFormat)) \(frame.pointee.width)x\(frame.pointee.height)")
        }
        let stride = dstW * bytesPerPixel
        var out = [UInt8](repeating: 0, count: stride * dstH)
        let rc = out.withUnsafeMutableBufferPointer { buf -> Int32 in
            var dst: [UnsafeMutablePointer<UInt8>?] = [buf.baseAddress, nil, nil, nil]
            var dstStride: [Int32] = [Int32(stride), 0, 0, 0]
            let srcData = withUnsafePointer(to: frame.pointee.data) { p in
                p.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { Array(UnsafeBufferPointer(start: $0, count: 8)) }
            }
            let srcStride = withUnsafePointer(to: frame.pointee.linesize) { p in
                p.withMemoryRebound(to: Int32.self, capacity: 8) { Array(UnsafeBufferPointer(start: $0, count: 8)) }
            }
            return sws_scale(ctx, srcData, srcStride, 0, frame.pointee.height, &dst, &dstStride)
        }
        if rc <= 0 {
            throw MediaError.ffmpeg(path: path, operation: "scale a frame", reason: FFmpegText.error(rc, withLog: false))
        }
        return out
    }
}

func pixelFormatName(_ f: AVPixelFormat) -> String {
    av_get_pix_fmt_name(f).map { String(cString: $0) } ?? "unknown pixel format"
}
