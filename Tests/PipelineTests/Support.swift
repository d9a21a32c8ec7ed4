import Foundation
import Engine
@testable import Pipeline

/// The repository root, found from this file's path (tests run from anywhere).
let repoRoot: URL = {
    var u = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { u.deleteLastPathComponent() }
    return u
}()

func tempDir(_ label: String = "recap-pipeline-test") throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

/// A scripted engine for pipeline-logic unit tests only: it records every request and answers from a
/// closure. Token estimates are a word count, so the tests control the budget exactly.
final class FakeEngine: EnginePort, @unchecked Sendable {
    let description: EngineDescription
    let answer: @Sendable (EngineCall) throws -> JSONValue
    private let lock = NSLock()
    private var _calls: [EngineCall] = []

    init(context: Int = 4096, acceptsImages: Bool = false, hearsAudio: Bool = false, maxImages: Int = 1,
         answer: @escaping @Sendable (EngineCall) throws -> JSONValue) {
        let caps = EngineCapabilities(images: acceptsImages, audio: hearsAudio, jsonSchema: true, contextTokens: context,
                                      maxImagesPerRequest: maxImages)
        description = EngineDescription(backend: "fake", identity: "fake:1", models: ["language": "fake"], capabilities: caps)
        self.answer = answer
    }

    var calls: [EngineCall] { lock.lock(); defer { lock.unlock() }; return _calls }

    func estimateTokens(_ call: EngineCall) async -> Int { Self.tokens(call) }

    static func tokens(_ call: EngineCall) -> Int {
        call.parts.reduce(call.system.split(separator: " ").count) { n, p in
            if case .text(let t) = p { return n + t.split(whereSeparator: { $0 == " " || $0 == "\n" }).count }
            return n + 256
        }
    }

    func generate(_ call: EngineCall) async throws -> EngineAnswer {
        lock.withLock { _calls.append(call) }
        return EngineAnswer(json: try answer(call))
    }
}

func probe(duration: Double, video: Bool = true, audio: Bool = true) -> RecapOutput.Probe {
    RecapOutput.Probe(container: "mov,mp4", durationSeconds: duration, hasVideo: video, hasAudio: audio,
                      width: video ? 640 : nil, height: video ? 360 : nil)
}

func scene(_ i: Int, _ start: Double, _ end: Double, ocr: String = "") -> RecapOutput.Scene {
    RecapOutput.Scene(index: i, start: start, end: end, frameTime: (start + end) / 2,
                      description: "Measured frame facts (not a caption): mid-brightness", descriptionSource: "measured",
                      ocrText: ocr, facts: .init(brightness: 0.5, dominantColors: ["blue"], motion: 0.01))
}

func loadBuiltin(_ name: String) throws -> PipelineSpec {
    try PipelineSpec.load(contentsOf: repoRoot.appendingPathComponent("pipelines/\(name).yaml"))
}
