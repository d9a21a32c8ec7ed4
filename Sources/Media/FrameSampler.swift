import CFFmpeg
import Foundation

/// How to choose frames. One strategy per call.
public enum SamplingStrategy: Sendable, Equatable, Codable {
    /// Exact timestamps 0, s, 2s, ...: seek to the keyframe before each, decode forward to it.
    case every(seconds: Double)
    /// n frames evenly spaced: the midpoints of n equal slices of the video.
    case count(Int)
    /// Keyframes only (the fast mode: no non-key frame is ever decoded). Keyframes closer than
    /// `minInterval` seconds to the previously kept one are skipped.
    case keyframes(minInterval: Double = 0)
    /// One representative frame per scene, in one decoding pass (see `ScenePass`). `threshold` is the
    /// smallest content change (0...1) a cut may have; scenes last at least `minSceneLength` seconds.
    case scenes(threshold: Double = 0.08, minSceneLength: Double = 0.6)
    /// The frames shown at these times (seconds, ascending), e.g. to fetch again the frames an engine was shown.
    case times([Double])
}

/// A sampled frame: upright, fitted into the size box, JPEG-encoded, with measured pixel facts.
public struct SampledFrame: Sendable, Equatable {
    /// Presentation time in seconds from the start of the file.
    public var time: Double
    /// Whether the decoder marked this frame as a keyframe.
    public var isKeyframe: Bool
    /// The JPEG (libavcodec mjpeg).
    public var jpeg: Data
    public var width: Int
    public var height: Int
    public var facts: PixelFacts
    /// For `.scenes`: the index of the scene this frame represents.
    public var sceneIndex: Int?

    /// The frame as 8-bit grayscale at its full sampled size (for OCR). Decodes the JPEG.
    public func grayscale() throws -> GrayImage { try JPEG.decodeGray(jpeg) }
    /// The frame as RGB. Decodes the JPEG.
    public func rgb() throws -> RGBImage { try JPEG.decodeRGB(jpeg) }
}

/// What the decoder did: lets tests and benchmarks check the work, not just the result.
public struct SamplingStats: Codable, Sendable, Equatable {
    public var decodedFrames: Int
    /// Frames decoded that were not keyframes. Always 0 for `.keyframes`.
    public var decodedNonKeyFrames: Int
    public var seeks: Int
    public var packetsSent: Int
    /// Damaged packets or frames the decoder could not decode and that were skipped (nil: none). The file
    /// is partly corrupt; the frames around the damage are still sampled, as the ffmpeg CLI would.
    public var damagedFrames: Int? = nil
}

public struct FrameSampling: Sendable {
    public var path: String
    public var strategy: SamplingStrategy
    public var frames: [SampledFrame]
    /// Only for `.scenes`.
    public var scenes: [SceneBoundary]?
    public var duration: Double?
    public var stats: SamplingStats
}

public struct FrameSamplerOptions: Sendable, Equatable {
    /// The longest side of every output frame, in pixels (default 768, Gemma 3n's largest input).
    public var maxSide: Int = 768
    /// mjpeg quantiser scale: 2 (best) ... 31.
    public var jpegQuality: Int = 3
    public init(maxSide: Int = 768, jpegQuality: Int = 3) {
        self.maxSide = maxSide; self.jpegQuality = jpegQuality
    }
}

/// Samples frames from the best video stream of a file with one of four strategies.
///
///     let result = try FrameSampler.sample(url: file, strategy: .every(seconds: 10))
///     for frame in result.frames { frame.time; frame.jpeg; frame.facts.brightness }
///
/// Synchronous and CPU-bound: call it from a task you are happy to block. It checks task cancellation
/// between packets and throws `CancellationError`.
public enum FrameSampler {
    /// - Throws: `MediaError` (`.noVideoStream` for audio-only files, the probe errors for bad files,
    ///   `.invalidRequest` for a strategy that makes no sense).
    public static func sample(url: URL, strategy: SamplingStrategy,
                              options: FrameSamplerOptions = FrameSamplerOptions()) throws -> FrameSampling {
        var frames: [SampledFrame] = []
        var result = try sample(url: url, strategy: strategy, options: options) { frames.append($0) }
        result.frames = frames
        return result
    }

    /// Streaming form: `each` receives frames in time order as they are made (memory: one frame).
    /// The returned value's `frames` is empty.
    public static func sample(url: URL, strategy: SamplingStrategy, options: FrameSamplerOptions,
                              each: (SampledFrame) throws -> Void) throws -> FrameSampling {
        guard options.maxSide >= 16 else { throw MediaError.invalidRequest("max side must be at least 16 pixels") }
        let path = url.path
        var maker = FrameMaker(options: options)
        switch strategy {
        case .every(let s):
            guard s > 0, s.isFinite else { throw MediaError.invalidRequest("--every needs a positive number of seconds") }
            let reader = try VideoReader(path: path, keyframesOnly: false)
            let duration = reader.duration
            var targets: [Double] = []
            if let duration {
                var t = 0.0
                var i = 0
                while t < duration - 1e-9 { targets.append(t); i += 1; t = Double(i) * s }
            }
            try exact(reader: reader, targets: targets, openEnded: duration == nil ? s : nil, maker: &maker, each: each)
            return FrameSampling(path: path, strategy: strategy, frames: [], scenes: nil, duration: duration, stats: stats(reader))
        case .count(let n):
            guard n > 0 else { throw MediaError.invalidRequest("--count needs at least 1 frame") }
            let reader = try VideoReader(path: path, keyframesOnly: false)
            guard let duration = reader.duration else {
                throw MediaError.invalidRequest("\(path): the duration is unknown, so frames cannot be spaced evenly; sample by interval or by scene instead (recap frames --every or --scenes; in a pipeline, frames.strategy: interval or scenes)")
            }
            let targets = (0..<n).map { (Double($0) + 0.5) * duration / Double(n) }
            try exact(reader: reader, targets: targets, openEnded: nil, maker: &maker, each: each)
            return FrameSampling(path: path, strategy: strategy, frames: [], scenes: nil, duration: duration, stats: stats(reader))
        case .times(let times):
            let reader = try VideoReader(path: path, keyframesOnly: false)
            try exact(reader: reader, targets: times.filter { $0 >= 0 }.sorted(), openEnded: nil, maker: &maker, each: each)
            return FrameSampling(path: path, strategy: strategy, frames: [], scenes: nil, duration: reader.duration, stats: stats(reader))
        case .keyframes(let minInterval):
            let reader = try VideoReader(path: path, keyframesOnly: true)
            var lastKept: Double? = nil
            while let f = try reader.nextFrame() {
                if let last = lastKept, f.time - last < minInterval { continue }
                lastKept = f.time
                try each(maker.make(f, reader: reader))
            }
            return FrameSampling(path: path, strategy: strategy, frames: [], scenes: nil, duration: reader.duration, stats: stats(reader))
        case .scenes(let threshold, let minLength):
            guard threshold > 0, threshold < 1 else { throw MediaError.invalidRequest("--threshold must be between 0 and 1") }
            let pass = ScenePass(path: path, options: SceneDetector.Options(minChange: Float(threshold), minSceneLength: minLength),
                                 maker: maker)
            return try pass.run(strategy: strategy, each: each)
        }
    }

    static func stats(_ r: VideoReader) -> SamplingStats {
        SamplingStats(decodedFrames: r.decodedFrames, decodedNonKeyFrames: r.decodedNonKeyFrames,
                      seeks: r.seeks, packetsSent: r.packetsSent, damagedFrames: r.damage.skipped > 0 ? r.damage.skipped : nil)
    }

    /// The frame on screen at each target time (the last frame whose time is <= target), in order.
    /// Seeks only when the keyframe before a target lies beyond what has already been decoded, so close
    /// targets are reached by decoding forward and far ones by a seek. Frames far before a target skip
    /// non-reference pictures (nothing depends on them).
    static func exact(reader: VideoReader, targets: [Double], openEnded: Double?, maker: inout FrameMaker,
                      each: (SampledFrame) throws -> Void) throws {
        var older: DecodedFrame? = nil
        var newer: DecodedFrame? = nil
        var atEnd = false
        var lastEmitted: Double? = nil
        let eps = 1e-6
        let frameDur = reader.nominalFrameDuration

        func emit(_ f: DecodedFrame) throws {
            if let last = lastEmitted, abs(last - f.time) < eps { return }   // two targets, one frame
            lastEmitted = f.time
            try each(maker.make(f, reader: reader))
        }

        func advance(to t: Double) throws -> DecodedFrame? {
            reader.skipNonReferenceBefore = t - max(0.5, 4 * frameDur)
            defer { reader.skipNonReferenceBefore = nil }
            while !atEnd && (newer == nil || newer!.time <= t + eps) {
                if let f = try reader.nextFrame() { older = newer; newer = f } else { atEnd = true }
            }
            if let n = newer, n.time <= t + eps { return n }      // end of stream: last frame covers t
            if let o = older, o.time <= t + eps { return o }
            return newer                                         // target before the first frame
        }

        if let step = openEnded {
            // Unknown duration: walk forward, never seeking, until the stream ends.
            var t = 0.0
            while true {
                guard let f = try advance(to: t) else { break }
                if atEnd && f.time < t - frameDur { break }
                try emit(f)
                if atEnd && newer === f && f.time <= t { break }
                t += step
            }
            return
        }

        for t in targets {
            let decodedUpTo = newer?.time
            var mustSeek: Bool
            if let upTo = decodedUpTo {
                if let o = older, o.time <= t + eps, upTo > t + eps {
                    mustSeek = false                              // already bracketed
                } else if t + eps < (older?.time ?? upTo) {
                    mustSeek = true                               // behind us
                } else if let kf = reader.keyframeTime(atOrBefore: t) {
                    mustSeek = kf > upTo + eps                    // a keyframe lies between us and t
                } else {
                    mustSeek = !reader.hasIndex && t - upTo > 2.0
                }
            } else {
                mustSeek = t > eps || reader.seeks > 0
            }
            if mustSeek {
                try reader.seek(to: t)
                older = nil; newer = nil; atEnd = false
            }
            var found = try advance(to: t)
            if mustSeek, found == nil || found!.time > t + frameDur {
                // The seek landed past the target or on nothing decodable: decode from the start instead.
                try reader.seekToStart()
                older = nil; newer = nil; atEnd = false
                found = try advance(to: t)
            }
            if let f = found { try emit(f) }
        }
    }
}

/// Turns decoded frames into SampledFrames: upright RGB, pixel facts against the previous one, JPEG.
struct FrameMaker {
    let options: FrameSamplerOptions
    private let scaler = Scaler()
    private var encoder: MJPEGEncoder? = nil
    private var previous: FrameSignature? = nil

    init(options: FrameSamplerOptions) { self.options = options }

    mutating func make(_ f: DecodedFrame, reader: VideoReader) throws -> SampledFrame {
        let rgb = try reader.uprightImage(f, maxSide: options.maxSide, scaler: scaler)
        let gray = rgb.grayscale()
        let sig = FrameSignature(gray: gray)
        let facts = PixelAnalysis.facts(rgb: rgb, gray: gray, previous: previous, signature: sig)
        previous = sig
        if encoder == nil || encoder!.width != rgb.width || encoder!.height != rgb.height {
            encoder = try MJPEGEncoder(width: rgb.width, height: rgb.height, quality: options.jpegQuality)
        }
        let jpeg = try encoder!.encode(rgb)
        return SampledFrame(time: f.time, isKeyframe: f.isKeyframe, jpeg: jpeg, width: rgb.width, height: rgb.height,
                            facts: facts, sceneIndex: nil)
    }
}
