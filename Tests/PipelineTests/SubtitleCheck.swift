import Foundation
import Pipeline
import Speech

/// Checks an SRT or VTT file the way a subtitler would: every cue against the conventions (`SubtitleRules`).
enum SubtitleCheck {
    /// What the file breaks, one line per broken rule; empty when every cue holds.
    static func violations(_ text: String, rules: SubtitleRules = SubtitleRules()) -> [String] {
        do {
            let cues = try Subtitles.parse(text).map { c in
                Cue(start: c.start, end: c.end, lines: c.text.split(separator: "\n").map { Self.plain(String($0)) })
            }
            return CueLayout.violations(cues, rules: rules)
        } catch {
            return ["unparseable: \(error)"]
        }
    }

    /// A line without its speaker label (`[Speaker 1] `, `<v Speaker 1>`) and VTT escapes: what a viewer reads.
    static func plain(_ line: String) -> String {
        var l = line
        if l.hasPrefix("<v "), let close = l.firstIndex(of: ">") { l = String(l[l.index(after: close)...]) }
        if l.hasPrefix("["), let close = l.firstIndex(of: "]") { l = String(l[l.index(after: close)...]).trimmingCharacters(in: .whitespaces) }
        return l.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
    }
}
