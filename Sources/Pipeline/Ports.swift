import Foundation
import Engine
import Media

// The pipeline talks to media, speech, the engine and the store through these small protocols.
// The real implementations (Adapters/) wrap the Media, Speech, Engine and Store modules; the
// pipeline-logic unit tests substitute fakes. Everything here is Sendable value data.

/// One sampled frame, as the frames stage checkpoints it: the JPEG sits in the job's work folder.
public struct FrameSample: Codable, Sendable, Equatable {
    public var time: Double
    public var file: String
    public var isKeyframe: Bool
    public var facts: RecapOutput.FrameFacts?
    /// On-screen text read by OCR while the frame's pixels were at hand ("" when none).
    public var ocrText: String
    public init(time: Double, file: String, isKeyframe: Bool, facts: RecapOutput.FrameFacts?, ocrText: String) {
        self.time = time; self.file = file; self.isKeyframe = isKeyframe; self.facts = facts; self.ocrText = ocrText
    }
}

/// The frames stage's checkpoint.
public struct FrameSet: Codable, Sendable, Equatable {
    public var frames: [FrameSample]
    /// Scene cut times (seconds) when the strategy finds scenes; empty otherwise.
    public var sceneCuts: [Double]
    public var contactSheet: String?
    /// How the scene detector's scenes began ("cut", "fade", "dissolve"), by start time. Nil in checkpoints
    /// written before transitions were told apart.
    public var transitions: [SceneStart]?
    /// What the user should know about the frames (e.g. damaged packets skipped). Nil: nothing.
    public var warnings: [String]?
    public init(frames: [FrameSample], sceneCuts: [Double], contactSheet: String?, transitions: [SceneStart]? = nil,
                warnings: [String]? = nil) {
        self.frames = frames; self.sceneCuts = sceneCuts; self.contactSheet = contactSheet; self.transitions = transitions
        self.warnings = warnings
    }

    public struct SceneStart: Codable, Sendable, Equatable {
        public var time: Double
        public var transition: String
        public init(time: Double, transition: String) { self.time = time; self.transition = transition }
    }
}

/// One audio clip (≤ 30 s, 16 kHz mono Float32) written to the job's work folder by the audio stage.
public struct AudioClipFile: Codable, Sendable, Equatable {
    public var start: Double
    public var duration: Double
    public var file: String
    public init(start: Double, duration: Double, file: String) { self.start = start; self.duration = duration; self.file = file }
}

/// The audio stage's checkpoint. `clips` is nil when the file has no audio stream.
public struct AudioSet: Codable, Sendable, Equatable {
    /// Nil when there is no audio stream.
    public var clips: [AudioClipFile]?
    /// What the user should know about the audio (e.g. damaged packets skipped). Nil: nothing.
    public var warnings: [String]?
    public init(clips: [AudioClipFile]?, warnings: [String]? = nil) { self.clips = clips; self.warnings = warnings }
}

public protocol MediaPort: Sendable {
    /// The OCR model that reads on-screen text while frames are sampled; nil when OCR is off.
    var ocrModel: String? { get }
    func probe(_ url: URL) async throws -> RecapOutput.Probe
    /// Samples frames into `folder` (JPEGs), with pixel facts and OCR text, and writes a contact sheet.
    func sampleFrames(_ url: URL, settings: PipelineSpec.Frames, probe: RecapOutput.Probe, into folder: URL) async throws -> FrameSet
    /// Streams the audio into clips written under `folder` (`clips` nil when there is no audio stream).
    func extractAudio(_ url: URL, clipSeconds: Double, into folder: URL) async throws -> AudioSet
}

public struct SpeechResult: Sendable, Equatable, Codable {
    public var language: String?
    public var segments: [RecapOutput.Segment]
    public var languageProbability: Double?
    public var translation: [RecapOutput.Segment]?
    public var timeline: [RecapOutput.AudioSpan]?
    public init(language: String?, segments: [RecapOutput.Segment], languageProbability: Double? = nil,
                translation: [RecapOutput.Segment]? = nil, timeline: [RecapOutput.AudioSpan]? = nil) {
        self.language = language; self.segments = segments; self.languageProbability = languageProbability
        self.translation = translation; self.timeline = timeline
    }
}

public protocol SpeechPort: Sendable {
    var modelName: String { get }
    /// What makes its transcripts differ from another recogniser's with the same model (VAD, translation):
    /// part of every job's key, so changing it redoes the transcripts.
    var method: String { get }
    /// Transcribes a file's audio, given as consecutive blocks of 16 kHz mono samples that carry their start in
    /// the file (`HearStage` joins the audio stage's clips into blocks). Segment times are in the file's clock.
    /// Speech gating (no invented text on music or silence) is the recognizer's job.
    /// `prompt`: words the speech likely holds, spelled right (on-screen text, file and folder names); nil: none.
    func transcribe(_ blocks: AsyncThrowingStream<AudioClip, any Error>, language: String, prompt: String?) async throws -> SpeechResult
}

extension SpeechPort {
    public var method: String { modelName }
}

/// A request to the engine: the Engine module's ordered parts (text, frames with their time and measured
/// facts, audio clips ≤ 30 s of 16 kHz mono with their start), and a JSON schema the answer must satisfy.
/// `purpose` names the request in schemas, counters and warnings ("hear", "describe frame", "summarize").
public struct EngineCall: Sendable {
    public typealias Part = EngineRequest.Part
    public var purpose: String
    public var system: String
    public var parts: [Part]
    public var schema: JSONValue
    public var maxTokens: Int
    public init(purpose: String, system: String, parts: [Part], schema: JSONValue, maxTokens: Int) {
        self.purpose = purpose; self.system = system; self.parts = parts; self.schema = schema; self.maxTokens = maxTokens
    }

    /// The words of the request's instructions (system and text parts), for echo checks.
    public var instructionText: String {
        ([system] + parts.compactMap { if case .text(let t) = $0 { return t }; return nil }).joined(separator: " ")
    }
}

/// What the engine answered: the validated JSON and how many model calls it took (2 when the engine re-asked
/// to repair an invalid answer), so the store's per-stage counts are the calls really made.
public struct EngineAnswer: Sendable {
    public var json: JSONValue
    public var calls: Int
    public init(json: JSONValue, calls: Int = 1) { self.json = json; self.calls = calls }
    public subscript(key: String) -> JSONValue? { json[key] }
}

/// What the pipeline plans from: the engine's own capabilities (what it takes and how much), never its
/// backend's name.
public struct EngineDescription: Sendable, Equatable {
    public var backend: String
    /// Stable identity of backend + models; part of the job's idempotency key.
    public var identity: String
    /// Role → model name ("language", "vision", "audio", "speech", "ocr"), as the engine reports them.
    public var models: [String: String]
    public var capabilities: EngineCapabilities
    public init(backend: String, identity: String, models: [String: String], capabilities: EngineCapabilities) {
        self.backend = backend; self.identity = identity; self.models = models; self.capabilities = capabilities
    }

    /// A model looks at the pixels (an engine that only OCRs sees nothing the frames stage did not measure).
    public var seesImages: Bool { capabilities.images && !capabilities.imagesAsEvidence }
    /// A model listens to the audio itself (not a whisper transcript handed to it as text).
    public var hearsAudio: Bool { capabilities.audio && !capabilities.audioAsTranscript }
    public var contextTokens: Int { capabilities.contextTokens }
    public var maxImagesPerRequest: Int { capabilities.maxImagesPerRequest }
    /// For the output's `engine.capabilities`: "text", "images", "images-as-evidence", "audio", ...
    public var capabilityNames: [String] {
        let c = capabilities
        var names: [String] = []
        if c.text { names.append("text") }
        if c.images { names.append(c.imagesAsEvidence ? "images-as-evidence" : "images") }
        if c.audio { names.append(c.audioAsTranscript ? "audio-as-transcript" : "audio") }
        if c.jsonSchema { names.append("json-schema") }
        return names
    }
}

public protocol EnginePort: Sendable {
    var description: EngineDescription { get }
    /// The engine planner's count of a request's input tokens (its tokenizer where it has one).
    func estimateTokens(_ call: EngineCall) async -> Int
    /// Sends the call; the answer is validated against `call.schema` (with the engine's repair attempt).
    func generate(_ call: EngineCall) async throws -> EngineAnswer
}

/// Thrown by adapters when the engine cannot be reached at all: `recap run` exits 3.
public struct EngineUnavailable: Error, CustomStringConvertible {
    public var message: String
    /// 3: the engine cannot be reached; 1: it refuses our configuration (the API key).
    public var exitCode: Int32
    public init(_ message: String, exitCode: Int32 = 3) { self.message = message; self.exitCode = exitCode }
    public var description: String { message }
}
