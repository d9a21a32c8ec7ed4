import Foundation
import Store

/// How a transcript is cut into the passages search indexes.
///
/// Whisper's segments are a few words to a sentence: too short to carry a meaning an embedding can match
/// ("Thank you.", "So."), and a moment found by words is as well pointed at by its passage's start. A passage
/// is consecutive segments of one speaker, closed at about 40 words, 30 seconds, or a pause of 3 seconds.
enum SearchPassages {
    static let maxWords = 40
    static let maxSeconds = 30.0
    static let maxPause = 3.0

    static func transcript(_ segments: [RecapOutput.Segment]) -> [SearchEntry] {
        var out: [SearchEntry] = []
        var open: (start: Double, end: Double, speaker: String?, texts: [String], words: Int)?
        func close() {
            if let p = open {
                out.append(SearchEntry(kind: .transcript, start: p.start, end: p.end,
                                       text: p.texts.joined(separator: " "), speaker: p.speaker))
            }
            open = nil
        }
        for s in segments {
            let text = s.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { continue }
            let words = text.split(whereSeparator: \.isWhitespace).count
            if let p = open, p.speaker != s.speaker || s.start - p.end > maxPause
                || p.words + words > maxWords || s.end - p.start > maxSeconds {
                close()
            }
            if open == nil {
                open = (s.start, s.end, s.speaker, [text], words)
            } else {
                open!.end = s.end
                open!.texts.append(text)
                open!.words += words
            }
        }
        close()
        return out
    }

    /// A creation-time tag ("2024-05-01T12:30:00.000000Z", or without fractions or zone) as Unix seconds.
    static func date(_ tag: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: tag) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: tag) { return d.timeIntervalSince1970 }
        let plain = DateFormatter()
        plain.locale = Locale(identifier: "en_US_POSIX")
        plain.timeZone = TimeZone(identifier: "UTC")
        plain.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return plain.date(from: tag)?.timeIntervalSince1970
    }
}
