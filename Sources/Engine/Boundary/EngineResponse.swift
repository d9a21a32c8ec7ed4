import Foundation

/// What an engine answered, already parsed and validated.
public struct EngineResponse: Sendable {
    /// The model's final text (after repair, if one was needed).
    public var text: String
    /// `text` parsed; valid against the request's schema.
    public var json: JSONValue
    public var usage: TokenUsage
    public var timings: EngineTimings
    /// "stop" or "length" as the server reported it for the accepted answer.
    public var finishReason: String?
    /// Whether the answer needed repair, and how.
    public var repair: Repair
    /// For the local engine: the measured inputs (OCR text, pixel facts, transcripts) the model was given in place
    /// of images and audio. Callers record these as measured, not model-generated.
    public var evidence: [MeasuredEvidence]
    public var identity: EngineIdentity

    public enum Repair: String, Sendable, Codable {
        case none
        /// Truncated or slightly broken JSON was closed mechanically and then validated.
        case closedLocally = "closed-locally"
        /// The model was asked once more, with the validation error.
        case reasked
    }

    public init(text: String, json: JSONValue, usage: TokenUsage, timings: EngineTimings, finishReason: String?,
                repair: Repair, evidence: [MeasuredEvidence], identity: EngineIdentity) {
        self.text = text
        self.json = json
        self.usage = usage
        self.timings = timings
        self.finishReason = finishReason
        self.repair = repair
        self.evidence = evidence
        self.identity = identity
    }
}

public struct TokenUsage: Sendable, Codable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Number of HTTP calls to the model (2 when a re-ask repair happened).
    public var calls: Int

    public init(promptTokens: Int = 0, completionTokens: Int = 0, calls: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.calls = calls
    }

    static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens,
                   calls: a.calls + b.calls)
    }
}

/// Seconds spent, end to end and as the server reports it (llama-server's `timings`, when present).
public struct EngineTimings: Sendable, Codable, Hashable {
    /// Wall time of `generate`, all attempts included.
    public var totalSeconds: Double
    /// Wall time of the HTTP exchanges alone.
    public var httpSeconds: Double
    /// Time spent turning images/audio into evidence (OCR, whisper), local engine only.
    public var evidenceSeconds: Double
    /// Server-reported prompt processing and generation times (milliseconds) and speeds (tokens/s).
    public var serverPromptMs: Double?
    public var serverGenerationMs: Double?
    public var promptTokensPerSecond: Double?
    public var generationTokensPerSecond: Double?

    public init(totalSeconds: Double = 0, httpSeconds: Double = 0, evidenceSeconds: Double = 0,
                serverPromptMs: Double? = nil, serverGenerationMs: Double? = nil,
                promptTokensPerSecond: Double? = nil, generationTokensPerSecond: Double? = nil) {
        self.totalSeconds = totalSeconds
        self.httpSeconds = httpSeconds
        self.evidenceSeconds = evidenceSeconds
        self.serverPromptMs = serverPromptMs
        self.serverGenerationMs = serverGenerationMs
        self.promptTokensPerSecond = promptTokensPerSecond
        self.generationTokensPerSecond = generationTokensPerSecond
    }
}

/// A measured input that stood in for an image or audio clip. Never a caption: it says what was measured.
public struct MeasuredEvidence: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable {
        case ocr, pixelFacts = "pixel-facts", transcript
    }
    public var kind: Kind
    /// Seconds into the media, when known.
    public var time: Double?
    /// The text put into the prompt for it.
    public var text: String

    public init(kind: Kind, time: Double?, text: String) {
        self.kind = kind
        self.time = time
        self.text = text
    }
}
