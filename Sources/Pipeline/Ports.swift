import Foundation
import Engine

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
    public init(frames: [FrameSample], sceneCuts: [Double], contactSheet: String?) {
        self.frames = frames; self.sceneCuts = sceneCuts; self.contactSheet = contactSheet
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
    public var clips: [AudioClipFile]?
    public init(clips: [AudioClipFile]?) { self.clips = clips }
}

public protocol MediaPort: Sendable {
    func probe(_ url: URL) async throws -> RecapOutput.Probe
    /// Samples frames into `folder` (JPEGs), with pixel facts and OCR text, and writes a contact sheet.
    func sampleFrames(_ url: URL, settings: PipelineSpec.Frames, probe: RecapOutput.Probe, into folder: URL) async throws -> FrameSet
    /// Streams the audio into clips written under `folder`. Nil when there is no audio stream.
    func extractAudio(_ url: URL, clipSeconds: Double, into folder: URL) async throws -> [AudioClipFile]?
}

public struct SpeechResult: Sendable, Equatable, Codable {
    public var language: String?
    public var segments: [RecapOutput.Segment]
    public init(language: String?, segments: [RecapOutput.Segment]) { self.language = language; self.segments = segments }
}

public protocol SpeechPort: Sendable {
    var modelName: String { get }
    /// Transcribes a stretch of audio (the runner passes up to `Runner.speechBlockSeconds` of consecutive
    /// clips); segment times are relative to its start. Speech gating (no invented text on
    /// music or silence) is the recognizer's job.
    func transcribe(clip: [Float], language: String) async throws -> SpeechResult
}

/// A request to the engine: ordered parts, a JSON schema the answer must satisfy.
public struct EngineCall: Sendable {
    public enum Part: Sendable { case text(String), jpeg(Data) }
    public var purpose: String
    public var system: String
    public var parts: [Part]
    public var schema: JSONValue
    public var maxTokens: Int
    public init(purpose: String, system: String, parts: [Part], schema: JSONValue, maxTokens: Int) {
        self.purpose = purpose; self.system = system; self.parts = parts; self.schema = schema; self.maxTokens = maxTokens
    }
}

public struct EngineDescription: Sendable, Equatable {
    public var backend: String
    /// Stable identity of backend + models; part of the job's idempotency key.
    public var identity: String
    public var models: [String: String]
    public var capabilities: [String]
    public var acceptsImages: Bool
    /// Total context (input + output) in tokens.
    public var contextTokens: Int
    public var maxImagesPerRequest: Int
    public init(backend: String, identity: String, models: [String: String], capabilities: [String],
                acceptsImages: Bool, contextTokens: Int, maxImagesPerRequest: Int) {
        self.backend = backend; self.identity = identity; self.models = models; self.capabilities = capabilities
        self.acceptsImages = acceptsImages; self.contextTokens = contextTokens; self.maxImagesPerRequest = maxImagesPerRequest
    }
}

public protocol EnginePort: Sendable {
    var description: EngineDescription { get }
    /// The engine planner's count of a request's input tokens (its tokenizer where it has one).
    func estimateTokens(_ call: EngineCall) async -> Int
    /// Sends the call; the answer is validated against `call.schema` (with the engine's repair attempt).
    func generate(_ call: EngineCall) async throws -> JSONValue
}

/// Thrown by adapters when the engine cannot be reached at all: `recap run` exits 3.
public struct EngineUnavailable: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
