import Foundation
import Models
import Speech

/// The process's local models, made once by the composition root (`recap run`) and handed both to the
/// pipeline (transcripts, on-screen text) and to the local engine (audio and image parts): one whisper and one
/// Tesseract per process. Both load their models on first use.
public struct LocalModels: Sendable {
    /// Whisper, when its model is installed (nil: no local transcripts).
    public var speech: WhisperTranscriptSource?
    /// Tesseract, unless OCR was turned off.
    public var ocr: TextRecognizer?
    public init(speech: WhisperTranscriptSource?, ocr: TextRecognizer?) { self.speech = speech; self.ocr = ocr }
}

extension EngineSettings {
    /// Whisper (`speechModel`, else `defaultSpeech`) when installed, and Tesseract unless `ocr` is off or its
    /// language data is missing. A whisper model asked for by name but not installed is an error that says how
    /// to install it.
    public func localModels(paths: RecapPaths = .fromEnvironment(), defaultSpeech: String = "base") throws -> LocalModels {
        let speechModel = try LocalModel(named: self.speechModel ?? defaultSpeech)
        var speech: WhisperTranscriptSource? = nil
        if let whisper = try? ModelCatalog.path(for: speechModel, paths: paths) {
            // Whisper without its VAD would put words on music: a missing VAD model is an error that says
            // how to install it, not a quiet step down.
            let vad = try ModelCatalog.path(for: .sileroVAD, paths: paths)
            // Speaker labels when the voice encoder is installed (`--all` installs it) and not turned off.
            let voices = speakers ? try? ModelCatalog.path(for: .voiceEncoder, paths: paths) : nil
            speech = WhisperTranscriptSource(modelPath: whisper.path, modelName: speechModel.rawValue, vadPath: vad.path,
                                             voicesPath: voices?.path, options: TranscriberOptions(translate: translate))
        } else if self.speechModel != nil {
            _ = try ModelCatalog.path(for: speechModel, paths: paths)  // asked for by name: say it is missing
        }
        return LocalModels(speech: speech, ocr: ocr ? try? TextRecognizer() : nil)
    }

    /// The local engine's options: llama-server from Recap's prefix, the quality tier's model (or `llmModel`), and the given
    /// local models (made here when not given) for audio and image parts; paths from `RecapPaths`.
    public func localOptions(paths: RecapPaths = .fromEnvironment(), models: LocalModels? = nil) throws -> LocalEngine.Options {
        let model = try llmModel ?? ModelCatalog.path(for: quality.model, paths: paths).path
        let server = LlamaServerOptions(
            binary: try paths.llamaServer().path, model: model, mmproj: mmproj,
            contextTokens: contextTokens ?? (llmModel == nil ? quality.contextTokens : 4096), threads: threads,
            startupTimeout: .seconds(max(30, requestTimeoutSeconds)))
        let parts = try models ?? localModels(paths: paths)
        return LocalEngine.Options(server: server, speech: parts.speech, ocr: parts.ocr, handleSignals: handleSignals)
    }
}
