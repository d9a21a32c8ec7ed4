import Foundation

/// Any OpenAI-compatible chat-completions server: vLLM or llama-server serving Gemma 3n (the full multimodal
/// model), Ollama (text). Images go as `image_url` data URIs, audio as `input_audio` base64 WAV, the schema as
/// `response_format` json_schema.
public struct OpenAIEngine: Engine {
    public let configuration: OpenAIConfiguration
    public let capabilities: EngineCapabilities
    public let identity: EngineIdentity
    public let planner: TokenPlanner
    let transport: HTTPTransport

    /// Makes the engine without touching the network. `configuration.model` names the model in the identity;
    /// use `connect` to ask the server for it instead.
    public init(configuration: OpenAIConfiguration, backend: String = "openai", extraModels: [String: String] = [:]) {
        self.configuration = configuration
        self.capabilities = configuration.capabilities
        let transport = HTTPTransport(configuration: configuration)
        self.transport = transport
        let counter: any TextTokenCounter = configuration.preset.hasTokenizeEndpoint
            ? ServerTokenCounter(transport: transport, model: configuration.model)
            : EstimatingTokenCounter()
        self.planner = TokenPlanner(capabilities: configuration.capabilities, counter: counter)
        var models = extraModels
        models["language"] = configuration.model.isEmpty ? "server-default" : configuration.model
        if capabilities.images, !capabilities.imagesAsEvidence { models["vision"] = models["language"] }
        if capabilities.audio, !capabilities.audioAsTranscript { models["audio"] = models["language"] }
        self.identity = EngineIdentity(backend: backend, models: models, endpoint: configuration.baseURL)
    }

    /// Makes the engine and checks the server is there: when no model was named, the first one the server lists
    /// (`/v1/models`) is used. Throws `unreachable` ("is vLLM running at …?") when it is not.
    public static func connect(configuration: OpenAIConfiguration) async throws -> OpenAIEngine {
        var config = configuration
        let probe = OpenAIEngine(configuration: config)
        let models: [String]
        do {
            models = try await probe.listModels()
        } catch EngineError.httpStatus(_, let status, _) where !config.model.isEmpty && status != 401 && status != 403 {
            // Some servers have no /v1/models; with the model named, the server answered, and that is enough.
            models = [config.model]
        }
        if config.model.isEmpty {
            guard let first = models.first else {
                await probe.shutdown()
                throw EngineError.malformedResponse(url: config.baseURL + "/models", reason: "the server lists no models; pass --model")
            }
            config.model = first
        }
        await probe.shutdown()
        return OpenAIEngine(configuration: config)
    }

    /// The model names the server serves.
    public func listModels() async throws -> [String] {
        let reply = try await transport.send("/models", body: nil, retries: 1, timeout: .seconds(15))
        do { return try JSONDecoder().decode(ChatWire.Models.self, from: reply.body).data.map(\.id) }
        catch { throw EngineError.malformedResponse(url: configuration.baseURL + "/models", reason: "\(error)") }
    }

    public func generate(_ request: EngineRequest) async throws -> EngineResponse {
        try await planner.check(request)
        return try await generate(request, evidence: [], evidenceSeconds: 0, started: .now)
    }

    /// The exchange itself, for callers that planned already (the local engine, after turning media into text).
    func generate(_ request: EngineRequest, evidence: [MeasuredEvidence], evidenceSeconds: Double,
                  started: ContinuousClock.Instant) async throws -> EngineResponse {
        let messages = try messages(for: request)
        return try await StructuredOutput.generate(
            request: request, messages: messages, identity: identity, evidence: evidence,
            evidenceSeconds: evidenceSeconds, started: started, call: { try await complete($0, request: request) })
    }

    public func shutdown() async {
        await transport.shutdown()
    }

    // MARK: Wire

    /// The chat messages for a request. Text-only requests send plain string content (every server takes it);
    /// mixed ones send content parts in the request's order.
    func messages(for request: EngineRequest) throws -> [ChatWire.Message] {
        var system = request.system ?? ""
        if let schema = request.schema, !capabilities.jsonSchema {
            // No server-side constraint: say it in words, and validation catches the rest.
            if !system.isEmpty { system += "\n\n" }
            system += "Answer with only a JSON document that satisfies this JSON Schema:\n" + schema.jsonString()
        }
        var out: [ChatWire.Message] = []
        if !system.isEmpty { out.append(.init(role: "system", content: .text(system))) }

        var parts: [ChatWire.ContentPart] = []
        for part in request.parts {
            switch part {
            case .text(let t):
                parts.append(.text(t))
            case .image(let img):
                guard capabilities.images else { throw EngineError.unsupportedInput("images") }
                if let label = Self.label(for: img) { parts.append(.text(label)) }
                parts.append(.imageURL("data:image/jpeg;base64," + img.jpeg.base64EncodedString()))
            case .audio(let clip):
                guard capabilities.audio else { throw EngineError.unsupportedInput("audio") }
                parts.append(.inputAudio(base64: WAV.encode(samples: clip.samples).base64EncodedString(), format: "wav"))
            }
        }
        let allText = parts.allSatisfy { if case .text = $0 { return true }; return false }
        if allText {
            let joined = request.texts.joined(separator: "\n\n")
            out.append(.init(role: "user", content: .text(joined)))
        } else {
            out.append(.init(role: "user", content: .parts(parts)))
        }
        return out
    }

    static func label(for image: EngineImage) -> String? {
        switch (image.label, image.time) {
        case let (l?, t?): return "\(l) (frame at \(String(format: "%.1f", t)) s):"
        case let (l?, nil): return "\(l):"
        case let (nil, t?): return "Frame at \(String(format: "%.1f", t)) s:"
        default: return nil
        }
    }

    /// The exact JSON body the first attempt of `request` sends to `/chat/completions` (for benchmarks that
    /// replay it with another client).
    public func requestBody(for request: EngineRequest) throws -> Data {
        try body(try messages(for: request), request: request)
    }

    private func body(_ messages: [ChatWire.Message], request: EngineRequest) throws -> Data {
        var body = ChatWire.Request(
            model: configuration.model.isEmpty ? nil : configuration.model, messages: messages,
            max_tokens: request.maxTokens, temperature: request.temperature, seed: request.seed)
        if configuration.preset == .llamaServer { body.cache_prompt = false }
        if capabilities.jsonSchema {
            body.response_format = ChatWire.ResponseFormat(
                json_schema: .init(name: request.schemaName, schema: request.schema ?? ["type": "object"], strict: true))
        }
        return try JSONEncoder().encode(body)
    }

    /// One chat-completions exchange.
    func complete(_ messages: [ChatWire.Message], request: EngineRequest) async throws -> RawCompletion {
        let data = try body(messages, request: request)
        let reply = try await transport.send("/chat/completions", body: data)
        let url = configuration.baseURL + "/chat/completions"
        let decoded: ChatWire.Response
        do { decoded = try JSONDecoder().decode(ChatWire.Response.self, from: reply.body) }
        catch { throw EngineError.malformedResponse(url: url, reason: "\(error)") }
        guard let choice = decoded.choices.first else {
            throw EngineError.malformedResponse(url: url, reason: "no choices in the answer")
        }
        return RawCompletion(
            text: choice.message?.content ?? "", finishReason: choice.finish_reason,
            usage: TokenUsage(promptTokens: decoded.usage?.prompt_tokens ?? decoded.timings?.prompt_n ?? 0,
                              completionTokens: decoded.usage?.completion_tokens ?? decoded.timings?.predicted_n ?? 0,
                              calls: 1),
            httpSeconds: reply.seconds, serverPromptMs: decoded.timings?.prompt_ms,
            serverGenerationMs: decoded.timings?.predicted_ms,
            promptTokensPerSecond: decoded.timings?.prompt_per_second,
            generationTokensPerSecond: decoded.timings?.predicted_per_second)
    }
}
