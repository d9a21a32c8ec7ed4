import Foundation
import Speech

/// `SpeechToText` over the Speech module's whisper.cpp `Transcriber` (Silero VAD, no-speech filtering and
/// repeat suppression included). The model loads on the first audio part, so text-only work never pays for it.
public actor WhisperTranscriptSource: SpeechToText {
    public nonisolated let modelName: String
    private let modelPath: String
    private nonisolated let vadPath: String?
    private nonisolated let voicesPath: String?
    private nonisolated let options: TranscriberOptions
    private var transcriber: Transcriber?

    /// `modelName` as Speech names it (e.g. "whisper-base"); `modelPath` the converted ggml file; `vadPath`
    /// Silero VAD's (nil: the energy gate stands in, which cannot tell music from speech).
    public init(modelPath: String, modelName: String, vadPath: String?, voicesPath: String? = nil,
                options: TranscriberOptions = TranscriberOptions()) {
        self.modelPath = modelPath
        self.modelName = modelName
        self.vadPath = vadPath
        self.voicesPath = voicesPath
        self.options = options
    }

    /// The transcriber, loading the model on first use. The pipeline's transcript stage and the local engine's
    /// audio parts share it: one whisper model per process.
    public func loaded() throws -> Transcriber {
        if let t = transcriber { return t }
        let vad = try vadPath.map { try VoiceActivity(path: $0) }
        let voices = try voicesPath.map { try VoiceEncoder(path: $0) }
        let t = try Transcriber(modelPath: modelPath, name: modelName, vad: vad, voices: voices, options: options)
        transcriber = t
        return t
    }

    /// The model with what else shapes its transcripts: "whisper-base+silero-vad+speakers", "+translate".
    public nonisolated var method: String {
        modelName + (vadPath != nil ? "+silero-vad" : "") + (voicesPath != nil ? "+speakers" : "")
            + (options.translate ? "+translate" : "")
    }

    public func transcribe(samples: [Float]) async throws -> String {
        try await loaded().transcribe(samples: samples).text
    }
}
