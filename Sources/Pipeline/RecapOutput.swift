import Foundation
import Engine

/// `NAME.recap.json`: the document Recap publishes per media file. Its JSON Schema is
/// `schemas/recap-output.v1.json`; bump `schemaVersion` and add a new schema file on any breaking change.
public struct RecapOutput: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = "1.0"

    public var schemaVersion = RecapOutput.currentSchemaVersion
    public var source: Source
    public var pipeline: PipelineInfo
    public var engine: EngineInfo
    public var transcript: Transcript?
    public var scenes: [Scene]
    public var extract: [ExtractSentence]
    public var results: JSONValue
    public var grounding: Grounding
    /// Field → "measured" (from the media), "model" (generated), "extractive" (copied from the transcript)
    /// or "derived" (computed from measured parts, e.g. chapters from scene cuts).
    public var provenance: [String: String]
    public var files: Files
    public var timings: [String: Double]
    public var warnings: [String]
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", source, pipeline, engine, transcript, scenes, extract, results
        case grounding, provenance, files, timings, warnings, createdAt = "created_at"
    }

    // Written by hand so that a missing transcript is an explicit `null`, as the schema requires.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(source, forKey: .source)
        try c.encode(pipeline, forKey: .pipeline)
        try c.encode(engine, forKey: .engine)
        if let transcript { try c.encode(transcript, forKey: .transcript) } else { try c.encodeNil(forKey: .transcript) }
        try c.encode(scenes, forKey: .scenes)
        try c.encode(extract, forKey: .extract)
        try c.encode(results, forKey: .results)
        try c.encode(grounding, forKey: .grounding)
        try c.encode(provenance, forKey: .provenance)
        try c.encode(files, forKey: .files)
        try c.encode(timings, forKey: .timings)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(createdAt, forKey: .createdAt)
    }

    public struct Source: Codable, Sendable, Equatable {
        public var path: String
        public var fingerprint: String
        public var sizeBytes: Int64
        public var probe: Probe
        enum CodingKeys: String, CodingKey { case path, fingerprint, sizeBytes = "size_bytes", probe }
    }

    public struct Probe: Codable, Sendable, Equatable {
        public var container: String
        public var durationSeconds: Double
        public var bitRate: Int64?
        public var hasVideo: Bool
        public var hasAudio: Bool
        public var width: Int?
        public var height: Int?
        public var frameRate: Double?
        public var rotation: Int?
        public var audioSampleRate: Int?
        public var audioChannels: Int?
        public var tags: [String: String]
        public var chapters: [Chapter]

        enum CodingKeys: String, CodingKey {
            case container, durationSeconds = "duration_seconds", bitRate = "bit_rate", hasVideo = "has_video"
            case hasAudio = "has_audio", width, height, frameRate = "frame_rate", rotation
            case audioSampleRate = "audio_sample_rate", audioChannels = "audio_channels", tags, chapters
        }

        public struct Chapter: Codable, Sendable, Equatable {
            public var start: Double
            public var end: Double
            public var title: String?
        }

        public init(container: String, durationSeconds: Double, bitRate: Int64? = nil, hasVideo: Bool, hasAudio: Bool,
                    width: Int? = nil, height: Int? = nil, frameRate: Double? = nil, rotation: Int? = nil,
                    audioSampleRate: Int? = nil, audioChannels: Int? = nil, tags: [String: String] = [:], chapters: [Chapter] = []) {
            self.container = container; self.durationSeconds = durationSeconds; self.bitRate = bitRate
            self.hasVideo = hasVideo; self.hasAudio = hasAudio; self.width = width; self.height = height
            self.frameRate = frameRate; self.rotation = rotation; self.audioSampleRate = audioSampleRate
            self.audioChannels = audioChannels; self.tags = tags; self.chapters = chapters
        }
    }

    public struct PipelineInfo: Codable, Sendable, Equatable {
        public var name: String
        public var version: Int
    }

    public struct EngineInfo: Codable, Sendable, Equatable {
        public var backend: String
        public var identity: String
        public var models: [String: String]
        public var capabilities: [String]
    }

    public struct Transcript: Codable, Sendable, Equatable {
        public var language: String?
        public var model: String
        public var segments: [Segment]
        /// Who made it: "whisper" (local, word-timed) or "engine" (the multimodal model heard the clips).
        public var source: String?
        /// What else the engine heard, clip by clip (sounds, music, tone); only when the engine hears audio.
        public var heard: [Heard]?
        /// How sure the language detection was (0…1); absent when the language was given or not detected.
        public var languageProbability: Double?
        /// The speech in English (`--translate`); the segments above stay in the spoken language.
        public var translation: [Segment]?
        /// Speech, sound and silence, end to end (from the voice activity detector).
        public var timeline: [AudioSpan]?
        public init(language: String?, model: String, segments: [Segment], source: String? = nil, heard: [Heard]? = nil,
                    languageProbability: Double? = nil, translation: [Segment]? = nil, timeline: [AudioSpan]? = nil) {
            self.language = language; self.model = model; self.segments = segments; self.source = source; self.heard = heard
            self.languageProbability = languageProbability; self.translation = translation; self.timeline = timeline
        }
        public var text: String { segments.map(\.text).joined(separator: " ") }

        // By hand so an undetected language is an explicit `null`, as the schema requires.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            if let language { try c.encode(language, forKey: .language) } else { try c.encodeNil(forKey: .language) }
            try c.encode(model, forKey: .model)
            try c.encode(segments, forKey: .segments)
            try c.encodeIfPresent(source, forKey: .source)
            try c.encodeIfPresent(heard, forKey: .heard)
            try c.encodeIfPresent(languageProbability, forKey: .languageProbability)
            try c.encodeIfPresent(translation, forKey: .translation)
            try c.encodeIfPresent(timeline, forKey: .timeline)
        }
        enum CodingKeys: String, CodingKey {
            case language, model, segments, source, heard, translation, timeline
            case languageProbability = "language_probability"
        }
    }

    /// One audio clip as the engine heard it, beyond the words.
    public struct Heard: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        /// Background sounds, e.g. "applause", "traffic".
        public var sounds: [String]
        public var music: Bool
        /// Tone or sentiment of the speech, e.g. "calm, informative"; "" when there is no speech.
        public var tone: String
        public init(start: Double, end: Double, sounds: [String], music: Bool, tone: String) {
            self.start = start; self.end = end; self.sounds = sounds; self.music = music; self.tone = tone
        }
    }

    public struct Segment: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
        /// The segment's words with their own times, when the recogniser gives them (whisper does).
        public var words: [Word]?
        /// Who spoke ("Speaker 1"), when known.
        public var speaker: String?
        public init(start: Double, end: Double, text: String, words: [Word]? = nil, speaker: String? = nil) {
            self.start = start; self.end = end; self.text = text; self.words = words; self.speaker = speaker
        }
    }

    public struct Word: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
        /// The recogniser's confidence in the word (0…1).
        public var probability: Double?
        public init(start: Double, end: Double, text: String, probability: Double? = nil) {
            self.start = start; self.end = end; self.text = text; self.probability = probability
        }
    }

    /// A stretch of the audio and what it holds: "speech", "sound" (music, noise, applause) or "silence".
    public struct AudioSpan: Codable, Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var kind: String
        public init(start: Double, end: Double, kind: String) { self.start = start; self.end = end; self.kind = kind }
    }

    public struct Scene: Codable, Sendable, Equatable {
        public var index: Int
        public var start: Double
        public var end: Double
        public var frameTime: Double
        /// What the scene shows. From a vision model when the engine has eyes (`descriptionSource` "model"),
        /// otherwise a plain statement of measured pixel facts ("measured").
        public var description: String
        public var descriptionSource: String
        public var ocrText: String
        public var facts: FrameFacts?
        /// How the scene began, as the detector saw it: "cut", "fade" (through black or white) or "dissolve".
        /// Absent for the first scene and for scenes opened by new on-screen text.
        public var transition: String? = nil
        enum CodingKeys: String, CodingKey {
            case index, start, end, frameTime = "frame_time", description
            case descriptionSource = "description_source", ocrText = "ocr_text", facts, transition
        }
    }

    public struct FrameFacts: Codable, Sendable, Equatable {
        public var brightness: Double?
        public var dominantColors: [String]
        public var motion: Double?
        public var sceneScore: Double?
        /// Focus, 0...1 (Media's `PixelFacts.sharpness`): the cover is chosen among sharp frames.
        public var sharpness: Double?
        enum CodingKeys: String, CodingKey {
            case brightness, dominantColors = "dominant_colors", motion, sceneScore = "scene_score", sharpness
        }
        public init(brightness: Double? = nil, dominantColors: [String] = [], motion: Double? = nil, sceneScore: Double? = nil,
                    sharpness: Double? = nil) {
            self.brightness = brightness; self.dominantColors = dominantColors; self.motion = motion; self.sceneScore = sceneScore
            self.sharpness = sharpness
        }
    }

    public struct ExtractSentence: Codable, Sendable, Equatable {
        public var text: String
        public var start: Double
        public var score: Double
    }

    public struct Grounding: Codable, Sendable, Equatable {
        public var hasSpeech: Bool
        public var hasOnScreenText: Bool
        /// Plain words about what the summary rests on, e.g. "No speech and no on-screen text were found; ..."
        public var note: String
        enum CodingKeys: String, CodingKey { case hasSpeech = "has_speech", hasOnScreenText = "has_on_screen_text", note }
    }

    public struct Files: Codable, Sendable, Equatable {
        public var json: String
        public var srt: String?
        public var vtt: String?
        public var contactSheet: String?
        enum CodingKeys: String, CodingKey { case json, srt, vtt, contactSheet = "contact_sheet" }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static let decoder = JSONDecoder()

    public func encoded() throws -> Data { try Self.encoder.encode(self) }
    public static func decode(_ data: Data) throws -> RecapOutput { try decoder.decode(RecapOutput.self, from: data) }
}
