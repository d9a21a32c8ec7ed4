import Engine
import Foundation

/// The see stage's checkpoint.
struct SeenScenes: Codable, Sendable {
    var scenes: [RecapOutput.Scene]
    var warnings: [String]
}

/// The see stage: one scene per sampled frame, with its measured facts and on-screen text; when a model can
/// see, it describes the frames, several per request (as many as the engine takes and its context holds).
/// An answer that is empty or only restates the prompt is asked once more, then reported, never stored.
struct SeeStage: Sendable {
    let engine: any EnginePort
    /// False when the pipeline has no `visual` stage: measured descriptions only.
    let describe: Bool

    static let system = "You describe video frames accurately and briefly."
    static func task(_ n: Int) -> String {
        n == 1 ? "Describe what this video frame shows in one or two plain sentences."
            : "Describe what each of these \(n) video frames shows, in order, one or two plain sentences per frame."
    }

    func run(_ frames: FrameSet, duration: Double, work: URL, counter: EngineCallCounter) async throws -> SeenScenes {
        let sorted = frames.frames.sorted { $0.time < $1.time }
        var scenes = Self.measuredScenes(sorted, cuts: frames.sceneCuts.sorted(), duration: duration,
                                         transitions: frames.transitions ?? [])
        guard describe, engine.description.seesImages, !scenes.isEmpty else { return SeenScenes(scenes: scenes, warnings: []) }
        var warnings: [String] = []
        var pending = Array(scenes.indices)
        for attempt in 0..<2 where !pending.isEmpty {
            var rejected: [(Int, String)] = []
            for group in Self.groups(pending, size: batchSize) {
                try Task.checkCancellation()
                let parts = try group.map { i -> EngineCall.Part in
                    let f = sorted[i]
                    return .image(EngineImage(jpeg: try Data(contentsOf: work.appendingPathComponent(f.file)), time: f.time,
                                              label: "Scene \(i + 1)", facts: f.facts.map(FrameFacts.init), ocrText: f.ocrText))
                }
                var task = Self.task(group.count)
                if attempt > 0 { task += " Say what is visible in the picture itself; do not repeat these instructions." }
                let texts = try await ask(parts: parts, task: task, count: group.count, counter: counter)
                for (i, text) in zip(group, texts) {
                    // The frames' labels ("Scene 2 (frame at 4.0 s):") were given too: repeating them says nothing.
                    if let problem = AnswerCheck.problem(text, instructions: Self.system + " " + task + " scene frame at") {
                        rejected.append((i, problem))
                    } else {
                        scenes[i].description = text.trimmingCharacters(in: .whitespacesAndNewlines)
                        scenes[i].descriptionSource = "model"
                    }
                }
            }
            pending = rejected.map(\.0)
            if attempt == 1 {
                for (i, problem) in rejected {
                    warnings.append("see: the model's description of the frame at \(Evidence.clock(scenes[i].frameTime)) was rejected (\(problem)); the measured description stands")
                }
            }
        }
        return SeenScenes(scenes: scenes, warnings: warnings)
    }

    /// Frames per request: what the engine takes, what half its context holds, and 8 at most (answers stay short).
    var batchSize: Int {
        let c = engine.description.capabilities
        let byContext = c.contextTokens / 2 / max(1, c.tokensPerImage)
        return max(1, min(8, c.maxImagesPerRequest, byContext))
    }

    static func groups(_ indices: [Int], size: Int) -> [[Int]] {
        stride(from: 0, to: indices.count, by: size).map { Array(indices[$0..<min($0 + size, indices.count)]) }
    }

    /// One request for a group of frames; the answer's descriptions in frame order ("" where one is missing).
    func ask(parts: [EngineCall.Part], task: String, count: Int, counter: EngineCallCounter) async throws -> [String] {
        let item: JSONValue = ["type": "string", "maxLength": 300]
        let schema: JSONValue = ["type": "object", "additionalProperties": false, "required": ["descriptions"],
                                 "properties": ["descriptions": ["type": "array", "minItems": .number(Double(count)),
                                                                 "maxItems": .number(Double(count)), "items": item]]]
        let call = EngineCall(purpose: "describe frames", system: Self.system, parts: parts + [.text(task)],
                              schema: schema, maxTokens: 40 + 110 * count)
        // An unusable answer describes nothing: every frame of the group is asked again, then reported.
        guard case .success(let answer) = try await engine.ask(call, counter: counter) else { return Array(repeating: "", count: count) }
        let texts = (answer["descriptions"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
        return (0..<count).map { $0 < texts.count ? texts[$0] : "" }
    }

    /// Scenes from the sampled frames: bounds from the detector's cuts (or halfway between frames), measured
    /// facts, on-screen text, and a description that says it is a measurement.
    static func measuredScenes(_ frames: [FrameSample], cuts: [Double], duration: Double,
                               transitions: [FrameSet.SceneStart] = []) -> [RecapOutput.Scene] {
        frames.enumerated().map { i, f in
            var start: Double, end: Double
            if !cuts.isEmpty {
                start = cuts.last { $0 <= f.time + 0.001 } ?? 0
                end = cuts.first { $0 > f.time + 0.001 } ?? duration
            } else {
                start = i == 0 ? 0 : (frames[i - 1].time + f.time) / 2
                end = i + 1 < frames.count ? (f.time + frames[i + 1].time) / 2 : duration
            }
            start = min(start, f.time); end = max(end, f.time)
            return RecapOutput.Scene(index: i, start: round3(start), end: round3(end), frameTime: round3(f.time),
                                     description: measuredDescription(f), descriptionSource: "measured",
                                     ocrText: f.ocrText.trimmingCharacters(in: .whitespacesAndNewlines), facts: f.facts,
                                     transition: transitions.first { abs($0.time - start) < 0.002 }?.transition)
        }
    }

    static func measuredDescription(_ f: FrameSample) -> String {
        var parts: [String] = []
        if let b = f.facts?.brightness { parts.append(b < 0.25 ? "dark" : b > 0.75 ? "bright" : "mid-brightness") }
        if let c = f.facts?.dominantColors, !c.isEmpty { parts.append("dominant colours " + c.prefix(3).joined(separator: ", ")) }
        if let m = f.facts?.motion { parts.append(m < 0.02 ? "still" : m < 0.15 ? "some motion" : "strong motion") }
        if !f.ocrText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { parts.append("on-screen text present") }
        return "Measured frame facts (not a caption): " + (parts.isEmpty ? "no pixel facts available" : parts.joined(separator: "; "))
    }
}

extension FrameFacts {
    /// The frames stage's measurements, as the engine labels them.
    init(_ f: RecapOutput.FrameFacts) {
        self.init(brightness: f.brightness, dominantColors: f.dominantColors, motion: f.motion, sceneScore: f.sceneScore)
    }
}
