import Foundation

/// SubRip and WebVTT from transcript segments. Times are made monotonic (a cue never starts before the
/// previous one, never ends before it starts) because players reject or reorder such cues.
public enum Subtitles {
    public static func srt(_ segments: [RecapOutput.Segment]) -> String {
        var out = ""
        for (i, cue) in cues(segments).enumerated() {
            out += "\(i + 1)\n\(stamp(cue.start, sep: ",")) --> \(stamp(cue.end, sep: ","))\n\(cue.text)\n\n"
        }
        return out
    }

    public static func vtt(_ segments: [RecapOutput.Segment]) -> String {
        var out = "WEBVTT\n\n"
        for cue in cues(segments) {
            out += "\(stamp(cue.start, sep: ".")) --> \(stamp(cue.end, sep: "."))\n\(cue.text)\n\n"
        }
        return out
    }

    static func cues(_ segments: [RecapOutput.Segment]) -> [RecapOutput.Segment] {
        var out: [RecapOutput.Segment] = []
        var last = 0.0
        for s in segments.sorted(by: { $0.start < $1.start }) {
            // "-->" inside a cue would end its timing line; blank lines would end the cue.
            let text = s.text.replacingOccurrences(of: "-->", with: "→")
                .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }.joined(separator: "\n")
            guard !text.isEmpty else { continue }
            let start = max(s.start.isFinite ? s.start : 0, last, 0)
            let end = max(s.end.isFinite ? s.end : start, start + 0.001)
            out.append(.init(start: start, end: end, text: text))
            last = start
        }
        return out
    }

    static func stamp(_ t: Double, sep: String) -> String {
        let ms = Int((max(0, t) * 1000).rounded())
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000
        return String(format: "%02d:%02d:%02d%@%03d", h, m, s, sep, f)
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
