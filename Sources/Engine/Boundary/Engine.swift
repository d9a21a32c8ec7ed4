import Foundation

/// The one boundary between Recap and a multimodal model. Backends: `OpenAIEngine` (any OpenAI-compatible server,
/// e.g. vLLM serving Gemma 3n) and `LocalEngine` (offline: llama-server + whisper.cpp + OCR and pixel facts).
public protocol Engine: Sendable {
    /// What this engine takes and how much. Callers plan against this, never against assumptions.
    var capabilities: EngineCapabilities { get }
    /// Backend and model names: part of the store's idempotency key, so a different model redoes the work.
    var identity: EngineIdentity { get }
    /// Counts tokens the way this engine will (its tokenizer where it offers one, else an estimate).
    var planner: TokenPlanner { get }
    /// Sends one request. The output is parsed and validated against `request.schema` (one repair attempt),
    /// or a typed `EngineError` is thrown. Cancelling the task cancels the HTTP request.
    func generate(_ request: EngineRequest) async throws -> EngineResponse
    /// Stops whatever the engine started (child processes, HTTP connections). Safe to call twice.
    func shutdown() async
}

/// What an engine takes. Every field can be overridden by the user (flags) when a server can do more or less.
public struct EngineCapabilities: Sendable, Codable, Hashable {
    public var text: Bool
    public var images: Bool
    public var audio: Bool
    /// Output can be constrained to a JSON schema by the server (grammar / guided decoding).
    public var jsonSchema: Bool
    /// Context window in tokens, input and output together.
    public var contextTokens: Int
    /// Most images in one request.
    public var maxImagesPerRequest: Int
    /// Longest single audio clip, in seconds (Gemma 3n: 188 tokens ≈ 30 s).
    public var maxAudioSecondsPerClip: Double
    /// Cost model for planning: Gemma 3n spends 256 tokens per image and 6.25 per second of audio.
    public var tokensPerImage: Int
    public var tokensPerAudioSecond: Double
    /// True when images are not seen by a vision model but turned into OCR text and pixel measurements.
    public var imagesAsEvidence: Bool
    /// True when audio is not heard by the model but transcribed by whisper and given as text.
    public var audioAsTranscript: Bool

    public init(
        text: Bool = true, images: Bool, audio: Bool, jsonSchema: Bool, contextTokens: Int,
        maxImagesPerRequest: Int = 16, maxAudioSecondsPerClip: Double = 30,
        tokensPerImage: Int = 256, tokensPerAudioSecond: Double = 6.25,
        imagesAsEvidence: Bool = false, audioAsTranscript: Bool = false
    ) {
        self.text = text
        self.images = images
        self.audio = audio
        self.jsonSchema = jsonSchema
        self.contextTokens = contextTokens
        self.maxImagesPerRequest = maxImagesPerRequest
        self.maxAudioSecondsPerClip = maxAudioSecondsPerClip
        self.tokensPerImage = tokensPerImage
        self.tokensPerAudioSecond = tokensPerAudioSecond
        self.imagesAsEvidence = imagesAsEvidence
        self.audioAsTranscript = audioAsTranscript
    }

    /// A short human list: "text, images (OCR + pixel facts), audio (transcribed), JSON schema, 4096-token context".
    public var summary: String {
        var parts: [String] = []
        if text { parts.append("text") }
        if images { parts.append(imagesAsEvidence ? "images (as OCR + pixel facts)" : "images (≤ \(maxImagesPerRequest)/request)") }
        if audio { parts.append(audioAsTranscript ? "audio (transcribed by whisper)" : "audio (≤ \(Int(maxAudioSecondsPerClip)) s/clip)") }
        if jsonSchema { parts.append("JSON schema") }
        parts.append("\(contextTokens)-token context")
        return parts.joined(separator: ", ")
    }
}

/// Which backend and which models produced an output.
public struct EngineIdentity: Sendable, Codable, Hashable {
    /// "local" or "openai".
    public var backend: String
    /// Role → model name, e.g. ["language": "SmolLM2-135M-Instruct.Q4_1", "speech": "whisper-base", "ocr": "tesseract-5.3.0-eng"].
    public var models: [String: String]
    /// Where it ran (for openai: the base URL; for local: empty). Not part of `key`: moving a server keeps results.
    public var endpoint: String

    public init(backend: String, models: [String: String], endpoint: String = "") {
        self.backend = backend
        self.models = models
        self.endpoint = endpoint
    }

    /// Stable text for idempotency keys: "local|language=…|ocr=…|speech=…" (roles sorted).
    public var key: String {
        ([backend] + models.keys.sorted().map { "\($0)=\(models[$0]!)" }).joined(separator: "|")
    }
}
