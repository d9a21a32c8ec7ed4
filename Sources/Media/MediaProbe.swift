import CFFmpeg
import Foundation

/// Reads a file's container, streams, tags and chapters with libavformat (no decoding beyond what
/// `avformat_find_stream_info` needs).
public enum MediaProbe {
    /// Probes one file.
    ///
    /// - Throws: `MediaError` naming the file: `.fileNotFound`, `.isDirectory`, `.notRegularFile`,
    ///   `.unreadable`, `.emptyFile`, `.notMedia` (text, random bytes; carries FFmpeg's reason) or
    ///   `.truncated` (the container's index runs past the end of the file).
    public static func probe(url: URL) throws -> ProbeInfo {
        let input = try InputFile(path: url.path)
        try input.checkNotTruncated()
        let ctx = input.ctx
        let fmt = ctx.pointee.iformat.pointee
        let tags = dictionary(ctx.pointee.metadata)
        var streams: [StreamInfo] = []
        for i in 0..<input.streamCount {
            streams.append(streamInfo(input.stream(i), index: i))
        }
        var chapters: [Chapter] = []
        for i in 0..<Int(ctx.pointee.nb_chapters) {
            guard let ch = ctx.pointee.chapters[i] else { continue }
            let tb = av_q2d(ch.pointee.time_base)
            chapters.append(Chapter(
                id: ch.pointee.id,
                start: Double(ch.pointee.start) * tb - input.startOffset,
                end: Double(ch.pointee.end) * tb - input.startOffset,
                title: dictionary(ch.pointee.metadata)["title"]))
        }
        let br = ctx.pointee.bit_rate
        return ProbeInfo(
            path: url.path,
            container: String(cString: fmt.name),
            containerLongName: fmt.long_name.map { String(cString: $0) } ?? String(cString: fmt.name),
            duration: checkedDuration(input.duration, streams: streams),
            bitRate: br > 0 ? Int(br) : nil,
            size: input.fileSize,
            streams: streams,
            tags: tags,
            title: tags["title"],
            creationTime: tags["creation_time"],
            chapters: chapters)
    }

    /// The container's duration, unless it claims far more than its streams hold (a damaged or forged header:
    /// 4,294,967 s was seen on a 6-second file); then the longest stream's. Frame spacing and progress rest on it.
    static func checkedDuration(_ declared: Double?, streams: [StreamInfo]) -> Double? {
        let held = streams.filter { $0.type == .video || $0.type == .audio }.compactMap(\.duration).max()
        guard let declared, let held, declared > 2 * held + 1 else { return declared ?? held }
        return held
    }

    static func streamInfo(_ st: UnsafeMutablePointer<AVStream>, index: Int) -> StreamInfo {
        let par = st.pointee.codecpar.pointee
        let tags = dictionary(st.pointee.metadata)
        let type: StreamType
        switch par.codec_type {
        case AVMEDIA_TYPE_VIDEO: type = .video
        case AVMEDIA_TYPE_AUDIO: type = .audio
        case AVMEDIA_TYPE_SUBTITLE: type = .subtitle
        case AVMEDIA_TYPE_DATA: type = .data
        case AVMEDIA_TYPE_ATTACHMENT: type = .attachment
        default: type = .unknown
        }
        let desc = avcodec_descriptor_get(par.codec_id)
        let tb = av_q2d(st.pointee.time_base)
        let dur = st.pointee.duration
        var info = StreamInfo(
            index: index, type: type,
            codec: String(cString: avcodec_get_name(par.codec_id)),
            codecLongName: desc?.pointee.long_name.map { String(cString: $0) },
            profile: avcodec_profile_name(par.codec_id, par.profile).map { String(cString: $0) },
            bitRate: par.bit_rate > 0 ? Int(par.bit_rate) : nil,
            duration: dur == recap_nopts_value() || dur <= 0 ? nil : Double(dur) * tb,
            language: tags["language"].flatMap { $0 == "und" ? nil : $0 },
            isDefault: st.pointee.disposition & AV_DISPOSITION_DEFAULT != 0,
            isAttachedPicture: st.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0,
            tags: tags, video: nil, audio: nil)
        if type == .video {
            let geo = VideoGeometry(stream: st)
            let pixFmt = AVPixelFormat(rawValue: par.format)
            let pixDesc = av_pix_fmt_desc_get(pixFmt)
            let n = st.pointee.nb_frames
            info.video = VideoStreamInfo(
                width: Int(par.width), height: Int(par.height),
                displayWidth: geo.displayWidth, displayHeight: geo.displayHeight,
                frameRate: rate(st.pointee.avg_frame_rate), baseFrameRate: rate(st.pointee.r_frame_rate),
                rotation: geo.rotation, mirrored: geo.mirrored,
                sampleAspectRatio: geo.sarText,
                pixelFormat: av_get_pix_fmt_name(pixFmt).map { String(cString: $0) },
                bitDepth: pixDesc.map { Int($0.pointee.comp.0.depth) },
                frameCount: n > 0 ? Int(n) : nil)
        } else if type == .audio {
            var layout = par.ch_layout
            var buf = [CChar](repeating: 0, count: 128)
            let desc = av_channel_layout_describe(&layout, &buf, buf.count) >= 0 ? cString(buf) : "\(layout.nb_channels) channels"
            let sf = AVSampleFormat(rawValue: par.format)
            info.audio = AudioStreamInfo(
                sampleRate: Int(par.sample_rate), channels: Int(par.ch_layout.nb_channels),
                channelLayout: desc,
                sampleFormat: av_get_sample_fmt_name(sf).map { String(cString: $0) })
        }
        return info
    }

    static func rate(_ r: AVRational) -> Double? {
        r.num > 0 && r.den > 0 ? Double(r.num) / Double(r.den) : nil
    }

    static func dictionary(_ dict: OpaquePointer?) -> [String: String] {
        var out: [String: String] = [:]
        var e: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let entry = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX) {
            out[String(cString: entry.pointee.key).lowercased()] = String(cString: entry.pointee.value)
            e = entry
        }
        return out
    }
}

/// How a video stream's stored pictures map to what a player shows: sample aspect ratio, then rotation.
struct VideoGeometry: Sendable, Equatable {
    var width: Int
    var height: Int
    var sarNum: Int
    var sarDen: Int
    /// Clockwise degrees (0, 90, 180, 270).
    var rotation: Int
    var mirrored: Bool

    init(width: Int, height: Int, sarNum: Int, sarDen: Int, rotation: Int, mirrored: Bool) {
        self.width = width; self.height = height
        self.sarNum = sarNum; self.sarDen = sarDen
        self.rotation = rotation; self.mirrored = mirrored
    }

    init(stream st: UnsafeMutablePointer<AVStream>) {
        let par = st.pointee.codecpar.pointee
        var sar = st.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = par.sample_aspect_ratio }
        if sar.num <= 0 || sar.den <= 0 { sar = AVRational(num: 1, den: 1) }
        var rotation = 0
        var mirrored = false
        var size: Int = 0
        if let raw = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 {
            raw.withMemoryRebound(to: Int32.self, capacity: 9) { m in
                // av_display_rotation_get is counter-clockwise; players turn the picture the other way.
                let ccw = av_display_rotation_get(m)
                if ccw.isFinite {
                    rotation = ((Int((-ccw).rounded()) % 360) + 360) % 360
                    rotation = (rotation + 45) / 90 * 90 % 360
                }
                // A negative determinant of the 2x2 part means a mirror image.
                let det = Double(m[0]) * Double(m[4]) - Double(m[1]) * Double(m[3])
                mirrored = det < 0
            }
        }
        self.init(width: Int(par.width), height: Int(par.height), sarNum: Int(sar.num), sarDen: Int(sar.den),
                  rotation: rotation, mirrored: mirrored)
    }

    var sarText: String { "\(sarNum):\(sarDen)" }

    /// Width after the sample aspect ratio, before rotation.
    var squarePixelWidth: Int { max(1, Int((Double(width) * Double(sarNum) / Double(sarDen)).rounded())) }

    var displayWidth: Int { rotation % 180 == 0 ? squarePixelWidth : height }
    var displayHeight: Int { rotation % 180 == 0 ? height : squarePixelWidth }

    /// Display size scaled down (never up) to fit a maxSide x maxSide box, keeping the display aspect.
    func fitted(maxSide: Int) -> (width: Int, height: Int) {
        let w = Double(displayWidth), h = Double(displayHeight)
        let scale = min(1.0, Double(maxSide) / max(w, h))
        return (max(1, Int((w * scale).rounded())), max(1, Int((h * scale).rounded())))
    }
}
