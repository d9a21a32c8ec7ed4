import Foundation

/// One stretch of recognised speech, times in seconds from the start of the file.
public struct TranscriptSegment: Codable, Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String
    /// whisper's probability that the window held no speech (0…1).
    public var noSpeechProbability: Double

    public init(start: Double, end: Double, text: String, noSpeechProbability: Double) {
        self.start = start
        self.end = end
        self.text = text
        self.noSpeechProbability = noSpeechProbability
    }
}

/// The speech of a file or clip. Empty `segments` means no speech was found (music, noise, silence).
public struct Transcript: Codable, Sendable, Equatable {
    /// ISO 639-1 code whisper detected (or was told), nil when nothing was spoken.
    public var language: String?
    public var segments: [TranscriptSegment]
    /// Seconds of audio examined.
    public var duration: Double
    /// e.g. "whisper-base".
    public var model: String

    public init(language: String?, segments: [TranscriptSegment], duration: Double, model: String) {
        self.language = language
        self.segments = segments
        self.duration = duration
        self.model = model
    }

    /// All the words, one space between segments.
    public var text: String { segments.map(\.text).joined(separator: " ") }
}

extension Transcript {
    /// SubRip subtitles.
    public var srt: String {
        segments.enumerated().map { i, s in
            "\(i + 1)\n\(Self.stamp(s.start, comma: true)) --> \(Self.stamp(s.end, comma: true))\n\(s.text)\n"
        }.joined(separator: "\n")
    }

    /// WebVTT subtitles.
    public var vtt: String {
        "WEBVTT\n\n" + segments.map { s in
            "\(Self.stamp(s.start, comma: false)) --> \(Self.stamp(s.end, comma: false))\n\(s.text)\n"
        }.joined(separator: "\n")
    }

    public static func stamp(_ t: Double, comma: Bool) -> String {
        let ms = Int((max(0, t) * 1000).rounded())
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000
        let sep = comma ? "," : "."
        return String(format: "%02d:%02d:%02d\(sep)%03d", h, m, s, f)
    }
}
