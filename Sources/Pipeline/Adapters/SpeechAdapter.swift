import Foundation
import Models
import Speech

/// The pipeline's speech side over the Speech module's whisper.cpp transcriber (speech gating included).
/// The model is loaded on the first clip, so a run with nothing to transcribe never pays for it.
public final class WhisperSpeech: SpeechPort, @unchecked Sendable {
    public let modelName: String
    let path: URL
    let language: String?
    private let lock = NSLock()
    private var transcriber: Transcriber?

    /// Throws when the model is not installed (the message says to run `recap models install`).
    public init(model: String, language: String) throws {
        let m = try LocalModel(named: model)
        path = try ModelCatalog.path(for: m)
        modelName = m.rawValue
        self.language = language == "auto" ? nil : language
    }

    func loaded() throws -> Transcriber {
        try lock.withLock {
            if let t = transcriber { return t }
            let t = try Transcriber(modelPath: path.path, name: modelName, options: TranscriberOptions(threads: 2, language: language))
            transcriber = t
            return t
        }
    }

    public func transcribe(clip: [Float], language: String) async throws -> SpeechResult {
        let t = try loaded()
        let r = try await t.transcribe(samples: clip, startTime: 0)
        return SpeechResult(language: r.language, segments: r.segments.map { .init(start: $0.start, end: $0.end, text: $0.text) })
    }
}
