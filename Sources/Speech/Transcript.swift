import Foundation

/// One stretch of recognised speech, times in seconds from the start of the file.
public struct TranscriptSegment: Codable, Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String
    /// whisper's probability that the window held no speech (0…1).
    public var noSpeechProbability: Double
    /// The segment's words with their own times (whisper's token timestamps), in the file's clock.
    public var words: [TimedWord]?
    /// Who spoke, when known ("Speaker 1").
    public var speaker: String?

    public init(start: Double, end: Double, text: String, noSpeechProbability: Double, words: [TimedWord]? = nil,
                speaker: String? = nil) {
        self.start = start
        self.end = end
        self.text = text
        self.noSpeechProbability = noSpeechProbability
        self.words = words
        self.speaker = speaker
    }
}

/// The speech of a file or clip. Empty `segments` means no speech was found (music, noise, silence).
public struct Transcript: Codable, Sendable, Equatable {
    /// ISO 639-1 code whisper detected (or was told), nil when nothing was spoken.
    public var language: String?
    /// How sure the detection was (0…1): the mean probability whisper gave `language` over the speech windows
    /// it looked at. Nil when the language was given (`--language`, an English-only model) or not detected.
    public var languageProbability: Double?
    public var segments: [TranscriptSegment]
    /// The same speech in English (`translate`), nil unless asked for.
    public var translation: [TranscriptSegment]?
    /// What the audio holds, end to end: speech, other sound (music, noise), silence.
    public var timeline: [AudioSpan]
    /// Seconds of audio examined.
    public var duration: Double
    /// e.g. "whisper-base".
    public var model: String

    public init(language: String?, segments: [TranscriptSegment], duration: Double, model: String,
                languageProbability: Double? = nil, translation: [TranscriptSegment]? = nil, timeline: [AudioSpan] = []) {
        self.language = language
        self.languageProbability = languageProbability
        self.segments = segments
        self.translation = translation
        self.timeline = timeline
        self.duration = duration
        self.model = model
    }

    /// All the words, one space between segments.
    public var text: String { segments.map(\.text).joined(separator: " ") }
}

extension Transcript {
    /// Subtitle cues by the usual conventions (`SubtitleRules`), cut at the words' own times.
    public func cues(rules: SubtitleRules = SubtitleRules(), english: Bool = false) -> [Cue] {
        let source = english ? (translation ?? segments) : segments
        // A label only tells something when there are two voices or more.
        let labelled = Set(source.compactMap(\.speaker)).count > 1
        return CueLayout.cues(segments: source.map { s in
            let speaker = labelled ? s.speaker : nil
            if let words = s.words, !words.isEmpty { return words.map { var w = $0; w.speaker = speaker; return w } }
            return CueLayout.words(start: s.start, end: s.end, text: s.text, speaker: speaker)
        }, rules: rules)
    }

    /// SubRip subtitles.
    public var srt: String { SubtitleFormat.srt(cues()) }

    /// WebVTT subtitles.
    public var vtt: String { SubtitleFormat.vtt(cues()) }

    public static func stamp(_ t: Double, comma: Bool) -> String { SubtitleFormat.stamp(t, comma: comma) }
}
