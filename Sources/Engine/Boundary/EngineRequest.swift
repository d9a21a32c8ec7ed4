import Foundation
import Media

/// One request to an engine: ordered parts plus how to answer.
public struct EngineRequest: Sendable {
    /// One input, in the order the model should read them.
    public enum Part: Sendable {
        case text(String)
        case image(EngineImage)
        case audio(EngineAudio)
    }

    /// Instructions that frame the task (the chat "system" message).
    public var system: String?
    public var parts: [Part]
    /// The JSON Schema the answer must satisfy (subset: see `JSONSchemaValidator`). Nil: any JSON object.
    public var schema: JSONValue?
    /// A name for the schema (OpenAI's `json_schema.name`): letters, digits, `_` and `-`.
    public var schemaName: String
    public var maxTokens: Int
    public var temperature: Double
    public var seed: Int?

    public init(
        system: String? = nil, parts: [Part], schema: JSONValue? = nil, schemaName: String = "recap_output",
        maxTokens: Int = 512, temperature: Double = 0.2, seed: Int? = 42
    ) {
        self.system = system
        self.parts = parts
        self.schema = schema
        self.schemaName = schemaName
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.seed = seed
    }

    public var imageCount: Int { parts.reduce(0) { if case .image = $1 { return $0 + 1 }; return $0 } }
    public var audioClips: [EngineAudio] { parts.compactMap { if case .audio(let a) = $0 { return a }; return nil } }
    public var texts: [String] { parts.compactMap { if case .text(let t) = $0 { return t }; return nil } }
}

/// A video frame or still image. `jpeg` is what a vision model sees; the other fields are what the local engine
/// (no vision model) turns into labelled evidence: OCR of `gray` (or of the decoded JPEG) and pixel `facts`.
public struct EngineImage: Sendable {
    public var jpeg: Data
    /// Seconds into the media, when the image is a frame.
    public var time: Double?
    /// A caller's label, e.g. "scene 3".
    public var label: String?
    /// 8-bit grayscale pixels for OCR (Media's; saves decoding the JPEG again).
    public var gray: GrayImage?
    /// Measurements of the pixels, computed by Media.
    public var facts: FrameFacts?
    /// On-screen text the caller already recognised; the local engine then skips OCR.
    public var ocrText: String?

    public init(jpeg: Data, time: Double? = nil, label: String? = nil, gray: GrayImage? = nil,
                facts: FrameFacts? = nil, ocrText: String? = nil) {
        self.jpeg = jpeg
        self.time = time
        self.label = label
        self.gray = gray
        self.facts = facts
        self.ocrText = ocrText
    }
}

/// Measured, not seen: facts computed from a frame's pixels. Values are as Media reports them.
public struct FrameFacts: Sendable, Codable, Hashable {
    /// Mean luma, 0 (black) … 1 (white).
    public var brightness: Double?
    /// Colour names or hex values, most common first.
    public var dominantColors: [String]
    /// Change from the previous sampled frame, 0 … 1.
    public var motion: Double?
    /// Scene-change score at this frame, 0 … 1.
    public var sceneScore: Double?
    /// Anything else Media measured (e.g. "contrast", "saturation"), by name.
    public var other: [String: Double]

    public init(brightness: Double? = nil, dominantColors: [String] = [], motion: Double? = nil,
                sceneScore: Double? = nil, other: [String: Double] = [:]) {
        self.brightness = brightness
        self.dominantColors = dominantColors
        self.motion = motion
        self.sceneScore = sceneScore
        self.other = other
    }
}

/// 16 kHz mono Float32 samples in [-1, 1], at most the engine's per-clip limit (30 s for Gemma 3n).
public struct EngineAudio: Sendable {
    public static let sampleRate = 16_000
    public var samples: [Float]
    /// Seconds into the media where this clip starts.
    public var start: Double?

    public init(samples: [Float], start: Double? = nil) {
        self.samples = samples
        self.start = start
    }

    public var seconds: Double { Double(samples.count) / Double(Self.sampleRate) }
}
