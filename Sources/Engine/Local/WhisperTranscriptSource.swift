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

    /// The transcriber, loading the model on first use. The pipeline's transcript stage and the local engine's
    /// audio parts share it: one whisper model per process.
    public func loaded() throws -> Transcriber {
        if let t = transcriber { return t }
        let t = try Transcriber(modelPath: modelPath, name: modelName, options: options)
        transcriber = t
        return t
    }

    public func transcribe(samples: [Float]) async throws -> String {
        try await loaded().transcribe(samples: samples).text
    }
}
