import Foundation

/// Known OpenAI-compatible servers and what each can do with Gemma 3n (see the engines reference).
/// A preset only sets defaults: every capability can be overridden.
public enum ServerPreset: String, Sendable, Codable, CaseIterable {
    case vllm
    case llamaServer = "llama-server"
    case ollama
    /// Any other OpenAI-compatible server: text and schema only until told otherwise.
    case generic

    /// How errors name the server: "is vLLM running at …?".
    public var displayName: String {
        switch self {
        case .vllm: return "vLLM"
        case .llamaServer: return "llama-server"
        case .ollama: return "Ollama"
        case .generic: return "the OpenAI-compatible server"
        }
    }

    public var defaultBaseURL: String {
        switch self {
        case .vllm: return "http://127.0.0.1:8000/v1"
        case .llamaServer: return "http://127.0.0.1:8080/v1"
        case .ollama: return "http://127.0.0.1:11434/v1"
        case .generic: return "http://127.0.0.1:8000/v1"
        }
    }

    /// Capabilities for Gemma 3n on this server.
    public var capabilities: EngineCapabilities {
        switch self {
        case .vllm:
            // Text, images and audio natively; guided decoding for schemas; 32K context in total.
            return EngineCapabilities(images: true, audio: true, jsonSchema: true, contextTokens: 32_768,
                                      maxImagesPerRequest: 16, maxAudioSecondsPerClip: 30)
        case .llamaServer:
            // Images need the model's mmproj GGUF (--mmproj on the server); no audio for Gemma 3n; schema → grammar.
            return EngineCapabilities(images: true, audio: false, jsonSchema: true, contextTokens: 32_768,
                                      maxImagesPerRequest: 16)
        case .ollama:
            // Gemma 3n is text-only in Ollama; `format`/response_format takes a schema. Ollama's default context
            // is small unless the model file raises it.
            return EngineCapabilities(images: false, audio: false, jsonSchema: true, contextTokens: 8_192,
                                      maxImagesPerRequest: 0)
        case .generic:
            return EngineCapabilities(images: false, audio: false, jsonSchema: true, contextTokens: 8_192,
                                      maxImagesPerRequest: 0)
        }
    }

    /// Servers with a `/tokenize` endpoint at their root (llama-server, vLLM).
    var hasTokenizeEndpoint: Bool { self == .vllm || self == .llamaServer }
}

/// How to reach an OpenAI-compatible server.
public struct OpenAIConfiguration: Sendable {
    /// The API root, ending in `/v1` (e.g. "http://gpu-box:8000/v1").
    public var baseURL: String
    /// The model name the server knows (vLLM: the served model name). Empty: ask the server (`/v1/models`).
    public var model: String
    public var preset: ServerPreset
    public var capabilities: EngineCapabilities
    /// Bearer token. Read from the environment by `apiKeyFromEnvironment()`; never logged, printed or stored.
    public var apiKey: String?
    public var connectTimeout: Duration
    /// Deadline for one HTTP exchange (CPU generation can be slow; vLLM on a GPU is fast).
    public var requestTimeout: Duration
    /// Retries after the first attempt on connection errors, 429 and 5xx.
    public var maxRetries: Int
    /// First backoff; doubles each retry, capped at `maxBackoff`. `Retry-After` wins when the server sends it.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Name used in "is … running at …?" errors; defaults to the preset's.
    public var serverName: String
    /// Retry unreachable and lost connections on this server. Off in a pool: another server takes the request
    /// at once, and it is never sent again to a server that just dropped it.
    public var retriesConnectionFailures = true

    public init(
        baseURL: String? = nil, model: String = "", preset: ServerPreset = .vllm,
        capabilities: EngineCapabilities? = nil, apiKey: String? = OpenAIConfiguration.apiKeyFromEnvironment(),
        connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(600), maxRetries: Int = 3,
        initialBackoff: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(8), serverName: String? = nil
    ) {
        self.baseURL = Self.normalize(baseURL ?? preset.defaultBaseURL)
        self.model = model
        self.preset = preset
        self.capabilities = capabilities ?? preset.capabilities
        self.apiKey = apiKey
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.serverName = serverName ?? preset.displayName
    }

    /// RECAP_API_KEY, else OPENAI_API_KEY, else none.
    public static func apiKeyFromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for name in ["RECAP_API_KEY", "OPENAI_API_KEY"] {
            if let v = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty { return v }
        }
        return nil
    }

    /// "http://host:8000" from "http://host:8000/v1": where llama-server and vLLM serve /tokenize and /health.
    public var serverRoot: String {
        baseURL.hasSuffix("/v1") ? String(baseURL.dropLast(3)) : baseURL
    }

    static func normalize(_ url: String) -> String {
        var u = url.trimmingCharacters(in: .whitespaces)
        while u.hasSuffix("/") { u.removeLast() }
        if !u.contains("://") { u = "http://" + u }
        return u
    }
}

extension OpenAIConfiguration: CustomStringConvertible {
    /// Safe to print: the key is shown only as present or absent.
    public var description: String {
        "\(preset.rawValue) at \(baseURL), model \(model.isEmpty ? "(server default)" : model), API key \(apiKey == nil ? "none" : "set (hidden)")"
    }
}
