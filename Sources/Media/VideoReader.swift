import CFFmpeg
import Foundation

/// A decoded video frame with its presentation time (seconds from the start of the file).
final class DecodedFrame {
    let frame: Frame
    let time: Double
    let isKeyframe: Bool
    init(frame: Frame, time: Double, isKeyframe: Bool) {
        self.frame = frame; self.time = time; self.isKeyframe = isKeyframe
    }
}

/// Demuxes and decodes the best video stream, with seeking, and counts what it decoded so tests can prove
/// that keyframe mode never decodes a non-key frame and that `--every` does not decode the whole file.
final class VideoReader {
    let input: InputFile
    let decoder: Decoder
    let streamIndex: Int
    let stream: UnsafeMutablePointer<AVStream>
    let geometry: VideoGeometry
    let keyframesOnly: Bool
    let path: String
    private let packet = Packet()
    private var demuxDone = false
    private var drained = false
    /// Damaged frames skipped (decoding goes past a few corrupt packets, as the ffmpeg CLI does).
    private(set) var damage = DecodeDamage()
    private var lastTime: Double? = nil
    private let frameDuration: Double
    /// While decoding toward a target more than this far ahead, non-reference frames are skipped.
    var skipNonReferenceBefore: Double? = nil

    private(set) var decodedFrames = 0
    private(set) var decodedNonKeyFrames = 0
    private(set) var seeks = 0
    private(set) var packetsSent = 0

    /// - Parameter threads: decoder threads; 0 lets FFmpeg choose (cores + 1).
    init(path: String, keyframesOnly: Bool, threads: Int32 = 0) throws {
        self.path = path
        input = try InputFile(path: path, findStreamInfo: false)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw MediaError.noVideoStream(path: path) }
        streamIndex = index
        stream = input.stream(index)
        geometry = VideoGeometry(stream: stream)
        self.keyframesOnly = keyframesOnly
        for i in 0..<input.streamCount where i != index {
            input.stream(i).pointee.discard = AVDISCARD_ALL
        }
        // Keyframe mode filters packets by their key flag in feed() and tells the decoder to discard
        // anything else, so non-key frames are never decoded. (Not stream.discard = AVDISCARD_NONKEY:
        // FFmpeg 5.1's MP4 demuxer then pairs B-frame composition offsets with the wrong samples and
        // reports keyframe times 1-3 frames off.)
        decoder = try Decoder(input: input, streamIndex: index, threads: threads) { c in
            if keyframesOnly { c.pointee.skip_frame = AVDISCARD_NONKEY }
        }
        let fr = stream.pointee.avg_frame_rate.num > 0 ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
        frameDuration = fr.num > 0 && fr.den > 0 ? Double(fr.den) / Double(fr.num) : 1.0 / 25
    }

    var timeBase: Double { av_q2d(stream.pointee.time_base) }

    /// The video's duration in seconds: the stream's, else the container's.
    var duration: Double? {
        let d = stream.pointee.duration
        if d != recap_nopts_value() && d > 0 { return Double(d) * timeBase }
        return input.duration
    }

    var nominalFrameDuration: Double { frameDuration }

    private func seconds(_ ts: Int64) -> Double { Double(ts) * timeBase - input.startOffset }
    private func timestamp(_ seconds: Double) -> Int64 { Int64(((seconds + input.startOffset) / timeBase).rounded(.down)) }

    /// Time of the last keyframe at or before `t` according to the container's index, if it has one.
    func keyframeTime(atOrBefore t: Double) -> Double? {
        guard avformat_index_get_entries_count(stream) > 0 else { return nil }
        let i = av_index_search_timestamp(stream, timestamp(t), AVSEEK_FLAG_BACKWARD)
        guard i >= 0, let e = avformat_index_get_entry(stream, i) else { return nil }
        return seconds(e.pointee.timestamp)
    }

    var hasIndex: Bool { avformat_index_get_entries_count(stream) > 0 }

    /// Jumps to the keyframe at or before `t`; the next frames decoded start there.
    func seek(to t: Double) throws {
        let rc = av_seek_frame(input.ctx, Int32(streamIndex), timestamp(max(0, t)), AVSEEK_FLAG_BACKWARD)
        if rc < 0 {
            throw MediaError.ffmpeg(path: path, operation: "seek to \(String(format: "%.3f", t)) s", reason: FFmpegText.error(rc))
        }
        avcodec_flush_buffers(decoder.ctx)
        demuxDone = false
        drained = false
        lastTime = nil
        seeks += 1
    }

    /// Back to the very beginning (the fallback when a seek lands somewhere undecodable, as in an
    /// MPEG-TS file without an index whose only keyframe is the first frame).
    func seekToStart() throws {
        let start = input.ctx.pointee.start_time
        var rc = avformat_seek_file(input.ctx, -1, Int64.min, start == recap_nopts_value() ? 0 : start, Int64.max, 0)
        if rc < 0 { rc = av_seek_frame(input.ctx, -1, 0, AVSEEK_FLAG_BYTE) }
        if rc < 0 {
            throw MediaError.ffmpeg(path: path, operation: "seek back to the start", reason: FFmpegText.error(rc))
        }
        avcodec_flush_buffers(decoder.ctx)
        demuxDone = false
        drained = false
        lastTime = nil
        seeks += 1
    }

    /// The next decoded frame in presentation order, or nil at the end of the stream.
    func nextFrame() throws -> DecodedFrame? {
        let frame = Frame()
        while true {
            let rc = avcodec_receive_frame(decoder.ctx, frame.ptr)
            if rc >= 0 { damage.decoded(); return makeDecoded(frame) }
            if rc == recap_averror_eof() { drained = true; return nil }
            if rc != recap_averror_eagain() {
                if damage.skip(rc) { continue }
                throw MediaError.ffmpeg(path: path, operation: "decode video", reason: FFmpegText.error(rc))
            }
            if demuxDone { return nil }
            try Task.checkCancellation()
            try feed()
        }
    }

    /// Keyframe mode on MP4/MOV: the index lists every sample, so the reader jumps from keyframe to
    /// keyframe and never reads the bytes of the frames in between (the biggest cost on long files).
    private lazy var keyframeJumps: [Int64]? = {
        guard keyframesOnly else { return nil }
        let name = String(cString: input.ctx.pointee.iformat.pointee.name)
        guard name.contains("mp4") || name.contains("mov") else { return nil }
        let n = avformat_index_get_entries_count(stream)
        guard n > 0 else { return nil }
        var out: [Int64] = []
        for i in 0..<n {
            if let e = avformat_index_get_entry(stream, i), e.pointee.flags & AVINDEX_KEYFRAME != 0 {
                out.append(e.pointee.timestamp)
            }
        }
        return out.isEmpty ? nil : out
    }()
    private var nextJump = 0
    private var lastJumpPts: Int64? = nil

    private func feedNextKeyframe(_ jumps: [Int64]) throws {
        guard nextJump < jumps.count else {
            demuxDone = true
            avcodec_send_packet(decoder.ctx, nil)
            return
        }
        // Aim half-way to the next keyframe: the demuxer's seek works on adjusted (edit-list) times, so
        // aiming at the index time itself can land on the previous keyframe.
        let ts = nextJump + 1 < jumps.count ? jumps[nextJump] + (jumps[nextJump + 1] - jumps[nextJump]) / 2 : Int64.max / 2
        nextJump += 1
        // No decoder flush: keyframes decode on their own, and frames still inside the decoder must come out.
        guard av_seek_frame(input.ctx, Int32(streamIndex), ts, AVSEEK_FLAG_BACKWARD) >= 0 else { return }
        seeks += 1
        for _ in 0..<64 {
            guard av_read_frame(input.ctx, packet.ptr) >= 0 else { return }
            defer { packet.unref() }
            let p = packet.ptr.pointee
            guard Int(p.stream_index) == streamIndex, p.flags & AV_PKT_FLAG_KEY != 0 else { continue }
            // Never send the same keyframe twice.
            if let last = lastJumpPts, p.pts != recap_nopts_value(), p.pts <= last { return }
            if p.pts != recap_nopts_value() { lastJumpPts = p.pts }
            let send = avcodec_send_packet(decoder.ctx, packet.ptr)
            packetsSent += 1
            if send < 0 && send != recap_averror_eagain() && !damage.skip(send) {
                throw MediaError.ffmpeg(path: path, operation: "decode video", reason: FFmpegText.error(send))
            }
            return
        }
    }

    private func feed() throws {
        if let jumps = keyframeJumps { return try feedNextKeyframe(jumps) }
        let rc = av_read_frame(input.ctx, packet.ptr)
        if rc < 0 {
            // End of file, or a read error in a damaged file: decode what we have.
            demuxDone = true
            avcodec_send_packet(decoder.ctx, nil)
            return
        }
        defer { packet.unref() }
        let p = packet.ptr.pointee
        guard Int(p.stream_index) == streamIndex else { return }
        if keyframesOnly && p.flags & AV_PKT_FLAG_KEY == 0 { return }
        if let limit = skipNonReferenceBefore {
            let ts = p.pts != recap_nopts_value() ? p.pts : p.dts
            let far = ts != recap_nopts_value() && seconds(ts) < limit
            decoder.ctx.pointee.skip_frame = far ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
        }
        let send = avcodec_send_packet(decoder.ctx, packet.ptr)
        packetsSent += 1
        if send < 0 && send != recap_averror_eagain() && !damage.skip(send) {
            throw MediaError.ffmpeg(path: path, operation: "decode video", reason: FFmpegText.error(send))
        }
    }

    private func makeDecoded(_ frame: Frame) -> DecodedFrame {
        decodedFrames += 1
        let isKey = frame.ptr.pointee.key_frame != 0
        if !isKey { decodedNonKeyFrames += 1 }
        // The frame's own pts first: best_effort_timestamp may fall back to a dts that, with frame
        // threading and skipped packets, belongs to a later packet.
        let pts = frame.ptr.pointee.pts
        let ts = pts != recap_nopts_value() ? pts : frame.ptr.pointee.best_effort_timestamp
        var t: Double
        if ts != recap_nopts_value() {
            t = seconds(ts)
        } else if let last = lastTime {
            t = last + frameDuration          // no timestamps at all: count frames
        } else {
            t = 0
        }
        if let last = lastTime, t < last { t = last + frameDuration * 0.001 } // keep times monotonic
        lastTime = t
        return DecodedFrame(frame: frame, time: t, isKeyframe: isKey)
    }

    /// Converts a decoded frame to an upright RGB picture fitted into maxSide: SAR, then rotation.
    func uprightImage(_ decoded: DecodedFrame, maxSide: Int, scaler: Scaler) throws -> RGBImage {
        let f = decoded.frame.ptr
        var geo = geometry
        // The frame's own size and SAR win over the stream's (streams may change size mid-way).
        geo.width = Int(f.pointee.width); geo.height = Int(f.pointee.height)
        if f.pointee.sample_aspect_ratio.num > 0 && f.pointee.sample_aspect_ratio.den > 0 {
            geo.sarNum = Int(f.pointee.sample_aspect_ratio.num); geo.sarDen = Int(f.pointee.sample_aspect_ratio.den)
        }
        let (dw, dh) = geo.fitted(maxSide: maxSide)
        let (sw, sh) = geo.rotation % 180 == 0 ? (dw, dh) : (dh, dw)
        let px = try scaler.convert(f, dstW: sw, dstH: sh, dstFormat: AV_PIX_FMT_RGB24, bytesPerPixel: 3, path: path)
        return RGBImage(width: sw, height: sh, pixels: px).oriented(rotation: geo.rotation, mirrored: geo.mirrored)
    }
}
