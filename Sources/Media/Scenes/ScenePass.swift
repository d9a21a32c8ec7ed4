import Foundation

/// A scene found by `.scenes`: [start, end) in seconds, the transition that opened it and the frame chosen
/// to show it.
public struct SceneBoundary: Codable, Sendable, Equatable {
    public var index: Int
    public var start: Double
    public var end: Double
    /// The score of the transition that opened the scene (nil for the first scene).
    public var score: Double?
    /// The transition that opened the scene (nil for the first): a cut, a fade or a dissolve, with its span.
    public var transition: SceneTransition?
    /// The time of the frame chosen to represent the scene.
    public var frameTime: Double?

    public init(index: Int, start: Double, end: Double, score: Double?, transition: SceneTransition? = nil, frameTime: Double? = nil) {
        self.index = index; self.start = start; self.end = end; self.score = score
        self.transition = transition; self.frameTime = frameTime
    }

    enum CodingKeys: String, CodingKey { case index, start, end, score, transition, frameTime = "frame_time" }
}

/// Scene detection and frame choice in one decoding pass: every frame is decoded once, scored against its
/// neighbours (`SceneDetector`), and a few candidates for each scene's picture are held by reference (no
/// copy) until the scene closes; the sharpest, preferring the middle, becomes its frame. Nothing is decoded
/// twice and nothing is sought, and memory stays flat however long the file: at most a dozen decoded
/// frames are held (the candidates of the scene still open, and those within the detector's look-ahead).
final class ScenePass {
    private struct Candidate {
        let frame: DecodedFrame
        let quality: Float
        var time: Double { frame.time }
    }

    private let path: String
    private let options: SceneDetector.Options
    private var maker: FrameMaker
    /// Time between candidates: every scene as long as the shortest allowed gets at least one.
    private let candidateEvery: Double
    /// Candidates kept for the open scene once it is certain they belong to it (thinned pairwise beyond).
    private static let settledLimit = 4

    private var candidates: [Candidate] = []
    private var scenes: [SceneBoundary] = []
    private var sceneStart: Double? = nil
    private var opening: SceneTransition? = nil
    private var reader: VideoReader? = nil
    /// The latest decoded frame: the picture of last resort for a scene that got no candidate.
    private var lastFrame: DecodedFrame? = nil

    init(path: String, options: SceneDetector.Options, maker: FrameMaker) {
        self.path = path
        self.options = options
        self.maker = maker
        candidateEvery = max(0.04, min(0.5, options.minSceneLength * 0.8))
    }

    func run(strategy: SamplingStrategy, each: (SampledFrame) throws -> Void) throws -> FrameSampling {
        // One decoder thread per core, not FFmpeg's cores + 1: this thread scores every frame too.
        let reader = try VideoReader(path: path, keyframesOnly: false,
                                     threads: Int32(max(1, min(16, ProcessInfo.processInfo.activeProcessorCount))))
        self.reader = reader
        let scaler = Scaler()
        let detector = SceneDetector(options: options, frameRate: 1 / reader.nominalFrameDuration)
        var lastCandidate = -Double.infinity
        var lastTime = 0.0
        while let f = try reader.nextFrame() {
            if sceneStart == nil { sceneStart = f.time }
            lastTime = f.time
            lastFrame = f
            let thumb = try SceneThumb.make(f.frame.ptr, scaler: scaler, path: path)
            let transitions = detector.push(thumb, time: f.time)
            if f.time - lastCandidate >= candidateEvery {
                lastCandidate = f.time
                // A flat picture (black, white) is a poor representative: it loses to any other.
                let quality = thumb.isFlat ? 0 : 1e-6 + SceneThumb.sharpness(f.frame.ptr)
                candidates.append(Candidate(frame: f, quality: quality))
            }
            for t in transitions { try close(at: t, each: each) }
            thinSettled(before: detector.decidedUntil)
        }
        let end = max(reader.duration ?? 0, lastTime + reader.nominalFrameDuration)
        // A short last shot is still a shot (a real clip can end 8 frames after a cut), so no minimum here.
        for t in detector.finish() { try close(at: t, each: each) }
        if let start = sceneStart { try closeLast(start: start, end: end, each: each) }
        return FrameSampling(path: path, strategy: strategy, frames: [], scenes: scenes, duration: reader.duration,
                             stats: FrameSampler.stats(reader))
    }

    /// The transition `t` ends the open scene: choose its frame and open the next.
    private func close(at t: SceneTransition, each: (SampledFrame) throws -> Void) throws {
        guard let start = sceneStart, t.time > start else { return }
        try emitScene(start: start, end: t.time, closing: t, each: each)
        sceneStart = t.time
        opening = t
    }

    private func closeLast(start: Double, end: Double, each: (SampledFrame) throws -> Void) throws {
        try emitScene(start: start, end: max(end, start), closing: nil, each: each)
        sceneStart = nil
    }

    private func emitScene(start: Double, end: Double, closing: SceneTransition?, each: (SampledFrame) throws -> Void) throws {
        let members = candidates.filter { $0.time < end }
        candidates.removeFirst(members.count)
        // Frames inside a fade or dissolve show two scenes at once: only if nothing else is there.
        let clear = members.filter { c in
            !(opening.map { c.time <= $0.end } ?? false) && !(closing.map { c.time >= $0.start && $0.kind != .cut } ?? false)
        }
        let pool = clear.isEmpty ? members : clear
        let length = max(end - start, 1e-9)
        let chosen = pool.max { score($0, start, length) < score($1, start, length) }
            ?? candidates.first.map { Candidate(frame: $0.frame, quality: 0) } ?? lastFrame.map { Candidate(frame: $0, quality: 0) }
        let index = scenes.count
        var scene = SceneBoundary(index: index, start: start, end: end, score: opening.map { $0.score }, transition: opening)
        if let chosen, let reader {
            var frame = try maker.make(chosen.frame, reader: reader)
            frame.sceneIndex = index
            if let s = opening?.score { frame.facts.sceneChange = PixelAnalysis.round4(s) }
            scene.frameTime = frame.time
            scenes.append(scene)
            try each(frame)
        } else {
            scenes.append(scene)
        }
    }

    /// Sharpness, with a preference for the middle of the scene (an editor's poster frame).
    private func score(_ c: Candidate, _ start: Double, _ length: Double) -> Float {
        let position = Float((c.time - start) / length)
        return c.quality * (0.75 + 0.25 * (1 - 2 * abs(min(1, max(0, position)) - 0.5)))
    }

    /// Candidates before `limit` surely belong to the open scene. Beyond `settledLimit` of them, each pair of
    /// neighbours keeps its sharper one: still spread over the scene, never more than a handful held.
    private func thinSettled(before limit: Double) {
        let settled = candidates.prefix { $0.time < limit }.count
        guard settled > Self.settledLimit else { return }
        var kept: [Candidate] = []
        var i = 0
        while i < settled {
            if i + 1 < settled {
                kept.append(candidates[i].quality >= candidates[i + 1].quality ? candidates[i] : candidates[i + 1])
            } else {
                kept.append(candidates[i])
            }
            i += 2
        }
        candidates = kept + candidates[settled...]
    }
}
