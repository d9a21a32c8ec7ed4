import Foundation
import Models

extension EngineSettings {
    /// The local engine's options: llama-server from Recap's prefix, SmolLM2 (or `llmModel`), whisper for audio
    /// parts when its model is installed, and Tesseract OCR; paths from `RecapPaths` (RECAP_CACHE & co).
    public func localOptions(paths: RecapPaths = .fromEnvironment()) throws -> LocalEngine.Options {
        let model = try llmModel ?? ModelCatalog.path(for: .smollm2, paths: paths).path
        let server = LlamaServerOptions(
            binary: try paths.llamaServer().path, model: model, mmproj: mmproj,
            contextTokens: contextTokens ?? 4096, threads: threads,
            startupTimeout: .seconds(max(30, requestTimeoutSeconds)))
        // Audio parts need a whisper model; without one installed the engine honestly claims no audio.
        let speechModel = try LocalModel(named: self.speechModel ?? "base")
        let speech = (try? ModelCatalog.path(for: speechModel, paths: paths)).map {
            WhisperTranscriptSource(modelPath: $0.path, modelName: speechModel.rawValue)
        }
        if self.speechModel != nil, speech == nil {
            _ = try ModelCatalog.path(for: speechModel, paths: paths)  // asked for by name: say it is missing
        }
        let recognizer = ocr ? try TextRecognizer() : nil
        return LocalEngine.Options(server: server, speech: speech, ocr: recognizer, handleSignals: handleSignals)
    }
}
