import Foundation

extension EngineSettings {
    /// The local engine's options: llama-server from Recap's prefix, SmolLM2 (or `llmModel`), whisper for audio
    /// and Tesseract OCR, each found in Recap's cache.
    public func localOptions() throws -> LocalEngine.Options {
        let paths = LocalPaths()
        let server = LlamaServerOptions(
            binary: try paths.llamaServer(), model: try llmModel ?? paths.defaultLanguageModel(), mmproj: mmproj,
            contextTokens: contextTokens ?? 4096, threads: threads,
            startupTimeout: .seconds(max(30, requestTimeoutSeconds)))
        let recognizer = ocr ? try TextRecognizer() : nil
        return LocalEngine.Options(server: server, speech: try paths.speech(model: speechModel), ocr: recognizer,
                                   handleSignals: handleSignals)
    }
}

/// Where the local engine's parts live.
struct LocalPaths {
    var cache: String {
        let env = ProcessInfo.processInfo.environment
        if let c = env["RECAP_CACHE"], !c.isEmpty { return c }
        let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return base + "/recap"
    }

    var prefix: String { ProcessInfo.processInfo.environment["RECAP_PREFIX"].flatMap { $0.isEmpty ? nil : $0 } ?? cache + "/prefix" }

    func llamaServer() throws -> String {
        let p = prefix + "/bin/llama-server"
        guard FileManager.default.isExecutableFile(atPath: p) else {
            throw EngineError.missingFile(path: p, hint: "build it with `make deps` (scripts/deps.sh)")
        }
        return p
    }

    func defaultLanguageModel() throws -> String {
        let name = "SmolLM2-135M-Instruct.Q4_1.gguf"
        let root = cache
        if let e = FileManager.default.enumerator(atPath: root) {
            while let rel = e.nextObject() as? String {
                if (rel as NSString).lastPathComponent == name { return root + "/" + rel }
            }
        }
        throw EngineError.missingFile(path: "\(root)/…/\(name)", hint: "install it with `recap models install`, or pass --llm-model PATH")
    }

    func speech(model: String?) throws -> (any SpeechToText)? { nil }
}
