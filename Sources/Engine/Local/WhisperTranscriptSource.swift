import Foundation
import Speech

/// `SpeechToText` over the Speech module's whisper.cpp `Transcriber` (energy gate, no-speech filtering and
/// repeat suppression included). The model loads on the first audio part, so text-only work never pays for it.
public actor WhisperTranscriptSource: SpeechToText {
    public nonisolated let modelName: String
    private let modelPath: String
    private let options: TranscriberOptions
    private var transcriber: Transcriber?

    /// `modelName` as Speech names it (e.g. "whisper-base"); `modelPath` the converted ggml file.
    public init(modelPath: String, modelName: String, options: TranscriberOptions = TranscriberOptions()) {
        self.modelPath = modelPath
        self.modelName = modelName
        self.options = options
    }

    public func transcribe(samples: [Float]) async throws -> String {
        if transcriber == nil {
            transcriber = try Transcriber(modelPath: modelPath, name: modelName, options: options)
        }
        return try await transcriber!.transcribe(samples: samples).text
    }
}
