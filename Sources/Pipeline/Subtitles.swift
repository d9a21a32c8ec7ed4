import Foundation
import Speech

/// SubRip and WebVTT from transcript segments, laid out by Speech's `CueLayout` (42 characters a line,
/// 2 lines, reading speed, duration and gap rules; `output.subtitles` in a pipeline changes them). Segments
/// with word times are cut at the words; others (an engine's transcript) spread their words over the segment.
public enum Subtitles {
    public static func srt(_ segments: [RecapOutput.Segment], rules: SubtitleRules = SubtitleRules()) -> String {
        SubtitleFormat.srt(cues(segments, rules: rules))
    }

    public static func vtt(_ segments: [RecapOutput.Segment], rules: SubtitleRules = SubtitleRules()) -> String {
        SubtitleFormat.vtt(cues(segments, rules: rules))
    }

    public static func cues(_ segments: [RecapOutput.Segment], rules: SubtitleRules = SubtitleRules()) -> [Cue] {
        // A label only tells something when there are two voices or more.
        let labelled = Set(segments.compactMap(\.speaker)).count > 1
        return CueLayout.cues(segments: segments.sorted { $0.start < $1.start }.map { words($0, labelled: labelled) }, rules: rules)
    }

    static func words(_ s: RecapOutput.Segment, labelled: Bool) -> [TimedWord] {
        let speaker = labelled ? s.speaker : nil
        if let words = s.words, !words.isEmpty {
            return words.map { TimedWord(start: $0.start, end: $0.end, text: $0.text, probability: $0.probability, speaker: speaker) }
        }
        return CueLayout.words(start: s.start, end: s.end, text: s.text, speaker: speaker)
    }

    /// Parses SRT or VTT back into cues. Used by tests and by anyone checking a file we wrote.
    public static func parse(_ text: String) throws -> [RecapOutput.Segment] {
        var cues: [RecapOutput.Segment] = []
        let blocks = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
        for block in blocks {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard let timing = lines.firstIndex(where: { $0.contains("-->") }) else { continue }
            let parts = lines[timing].components(separatedBy: "-->").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let a = seconds(parts[0]), let b = seconds(parts[1].split(separator: " ").first.map(String.init) ?? "") else {
                throw SubtitleError(line: lines[timing])
            }
            cues.append(.init(start: a, end: b, text: lines[(timing + 1)...].joined(separator: "\n")))
        }
        return cues
    }

    public struct SubtitleError: Error, CustomStringConvertible {
        public var line: String
        public var description: String { "malformed cue timing: \(line)" }
    }

    static func seconds(_ s: String) -> Double? {
        let p = s.replacingOccurrences(of: ",", with: ".").split(separator: ":")
        guard p.count == 3 || p.count == 2 else { return nil }
        let nums = p.compactMap { Double($0) }
        guard nums.count == p.count else { return nil }
        return nums.reduce(0) { $0 * 60 + $1 }
    }
}
