import Foundation

/// Everything a user can say about the engine (the `--engine …` flags), as data, and how to make the engine.
/// `recap run` and `recap engine check` share it.
public struct EngineSettings: Sendable, Codable, Hashable {
    public enum Backend: String, Sendable, Codable, CaseIterable {
        /// Offline default: llama-server + SmolLM2, whisper.cpp, OCR and pixel facts.
        case local
        /// Any OpenAI-compatible server (vLLM, llama-server, Ollama).
        case openai
    }

    public var backend: Backend
    // openai
    public var preset: ServerPreset
    /// The servers' API roots; empty: the preset's usual address. Two or more make a pool (`EnginePool`).
    public var baseURLs: [String]
    /// The first server (the only one without a pool).
    public var baseURL: String? {
        get { baseURLs.first }
        set { baseURLs = newValue.map { [$0] } ?? [] }
    }
    /// How long a failed server of a pool is left alone.
    public var poolPolicy = PoolPolicy()
    public var model: String?
    public var connectTimeoutSeconds: Double
    public var requestTimeoutSeconds: Double
    public var retries: Int
    // local
    /// Which catalog language model runs (ignored when `llmModel` names a GGUF).
    public var quality: Quality = .default
    /// A GGUF replacing the quality tier's model.
    public var llmModel: String?
    /// The GGUF's multimodal projector: gives the local model eyes.
    public var mmproj: String?
    /// Whisper model for audio parts ("base", "tiny.en"); nil: the Models default.
    public var speechModel: String?
    public var ocr: Bool
    /// Also transcribe the speech into English (whisper's translate task).
    public var translate: Bool = false
    /// Label who speaks when (the voice encoder), when installed.
    public var speakers: Bool = true
    public var threads: Int
    // capability overrides (both backends)
    public var images: Bool?
    public var audio: Bool?
    public var jsonSchema: Bool?
    public var contextTokens: Int?
    public var maxImagesPerRequest: Int?
    public var maxAudioSecondsPerClip: Double?
    /// Stop child processes and exit on SIGINT/SIGTERM (the default for one-shot commands).
    public var handleSignals: Bool

    public init(backend: Backend = .local, preset: ServerPreset = .vllm, baseURL: String? = nil, baseURLs: [String] = [],
                model: String? = nil,
                connectTimeoutSeconds: Double = 5, requestTimeoutSeconds: Double = 600, retries: Int = 3,
                llmModel: String? = nil, mmproj: String? = nil, speechModel: String? = nil, ocr: Bool = true,
                threads: Int = 2, images: Bool? = nil, audio: Bool? = nil, jsonSchema: Bool? = nil,
                contextTokens: Int? = nil, maxImagesPerRequest: Int? = nil, maxAudioSecondsPerClip: Double? = nil,
                handleSignals: Bool = true) {
        self.backend = backend
        self.preset = preset
        self.baseURLs = (baseURL.map { [$0] } ?? []) + baseURLs
        self.model = model
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.retries = retries
        self.llmModel = llmModel
        self.mmproj = mmproj
        self.speechModel = speechModel
        self.ocr = ocr
        self.threads = threads
        self.images = images
        self.audio = audio
        self.jsonSchema = jsonSchema
        self.contextTokens = contextTokens
        self.maxImagesPerRequest = maxImagesPerRequest
        self.maxAudioSecondsPerClip = maxAudioSecondsPerClip
        self.handleSignals = handleSignals
    }

    /// The preset's capabilities with the user's overrides applied.
    public func capabilities(base: EngineCapabilities) -> EngineCapabilities {
        var c = base
        if let v = images { c.images = v }
        if let v = audio { c.audio = v }
        if let v = jsonSchema { c.jsonSchema = v }
        if let v = contextTokens { c.contextTokens = v }
        if let v = maxImagesPerRequest { c.maxImagesPerRequest = v }
        if let v = maxAudioSecondsPerClip { c.maxAudioSecondsPerClip = v }
        if c.images, c.maxImagesPerRequest == 0 { c.maxImagesPerRequest = 16 }
        return c
    }

    public var openAIConfiguration: OpenAIConfiguration { configuration(baseURL: baseURL) }

    /// One configuration per server, in the order given (one, at the preset's address, when none was given).
    public var openAIConfigurations: [OpenAIConfiguration] {
        baseURLs.isEmpty ? [openAIConfiguration] : baseURLs.map { configuration(baseURL: $0) }
    }

    private func configuration(baseURL: String?) -> OpenAIConfiguration {
        OpenAIConfiguration(
            baseURL: baseURL, model: model ?? "", preset: preset,
            capabilities: capabilities(base: preset.capabilities),
            connectTimeout: .milliseconds(Int(connectTimeoutSeconds * 1000)),
            requestTimeout: .milliseconds(Int(requestTimeoutSeconds * 1000)), maxRetries: retries)
    }

    /// Makes the engine. For `openai` the server is contacted (model name, reachability); for `local` the
    /// models are found in Recap's cache and llama-server starts on first use.
    /// `models`: the process's local models, shared with the pipeline (the local engine makes its own otherwise).
    public func makeEngine(models: LocalModels? = nil) async throws -> any Engine {
        switch backend {
        case .openai:
            let configurations = openAIConfigurations
            if configurations.count == 1 { return try await OpenAIEngine.connect(configuration: configurations[0]) }
            return try await EnginePool.connect(configurations: configurations, policy: poolPolicy)
        case .local:
            return try LocalEngine(options: localOptions(models: models))
        }
    }
}
