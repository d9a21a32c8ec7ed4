import Foundation

/// One recognised word, times in seconds from the start of the file.
public struct TimedWord: Codable, Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var text: String  // as the recogniser gives it: may carry a leading space and trailing punctuation
    public var probability: Double?
    public var speaker: String?  // e.g. "Speaker 1"; nil when unknown

    public init(start: Double, end: Double, text: String, probability: Double? = nil, speaker: String? = nil) {
        (self.start, self.end, self.text, self.probability, self.speaker) = (start, end, text, probability, speaker)
    }
}

/// Subtitle conventions (Netflix Timed Text Style Guide, English; BBC).
public struct SubtitleRules: Sendable, Equatable {
    public var maxLineChars: Int
    public var maxLines: Int
    public var maxCharsPerSecond: Double  // characters incl. spaces, excluding line breaks, per displayed second
    public var minDuration: Double
    public var maxDuration: Double
    public var minGap: Double  // between consecutive cues

    public init(maxLineChars: Int = 42, maxLines: Int = 2, maxCharsPerSecond: Double = 17.0,
                minDuration: Double = 5.0 / 6.0, maxDuration: Double = 7.0, minGap: Double = 2.0 / 25.0) {
        (self.maxLineChars, self.maxLines, self.maxCharsPerSecond) = (maxLineChars, maxLines, maxCharsPerSecond)
        (self.minDuration, self.maxDuration, self.minGap) = (minDuration, maxDuration, minGap)
    }
}

public struct Cue: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var lines: [String]  // 1...maxLines lines, each within maxLineChars unless it is one over-long word
    public var speaker: String?
    public var text: String { lines.joined(separator: "\n") }

    public init(start: Double, end: Double, lines: [String], speaker: String? = nil) {
        (self.start, self.end, self.lines, self.speaker) = (start, end, lines, speaker)
    }
}

public enum CueLayout {
    /// Lays out cues from words. `segments` groups words as the recogniser segmented them (sentence-ish units);
    /// a cue never spans two speakers, and prefers to end where a segment ends or at sentence punctuation.
    public static func cues(segments: [[TimedWord]], rules: SubtitleRules = .init()) -> [Cue] {
        let words = tokens(segments)
        guard !words.isEmpty else { return [] }
        let planner = Planner(words: words, rules: rules)
        var drafts: [Draft] = []
        var runStart = 0
        for k in 1...words.count where k == words.count || words[k].speaker != words[k - 1].speaker {
            drafts += planner.split(runStart..<k)
            runStart = k
        }
        return timed(drafts, rules)
    }

    /// For segments that have no word times (e.g. a remote engine gave only segment start/end and text):
    /// split the text on whitespace and spread the words over [start, end] in proportion to their character count.
    public static func words(start: Double, end: Double, text: String, speaker: String?) -> [TimedWord] {
        guard start.isFinite, end.isFinite else { return [] }
        // "-->" would end an SRT/VTT timing line early.
        let pieces = text.split(whereSeparator: \.isWhitespace).map { $0.replacingOccurrences(of: "-->", with: "→") }
        let total = Double(pieces.reduce(0) { $0 + $1.count })
        let origin = max(0, start), span = max(0, end - origin)
        var done = 0.0
        return pieces.map { piece in
            let from = origin + span * done / total
            done += Double(piece.count)
            return TimedWord(start: from, end: origin + span * done / total, text: piece, speaker: speaker)
        }
    }

    /// Every rule a cue list breaks, as human-readable strings naming the cue (1-based, as numbered in SRT) and the rule.
    /// Empty when all rules hold. The 1e-6 slack only absorbs floating-point noise, not real overruns.
    public static func violations(_ cues: [Cue], rules: SubtitleRules = .init()) -> [String] {
        let slack = 1e-6
        var found: [String] = []
        for (k, cue) in cues.enumerated() {
            func report(_ what: String) { found.append("cue \(k + 1): \(what)") }
            guard cue.start.isFinite, cue.end.isFinite, cue.start >= 0, cue.end > cue.start else {
                report("invalid times \(cue.start) --> \(cue.end)")
                continue
            }
            if cue.lines.isEmpty || cue.lines.count > rules.maxLines {
                report("\(cue.lines.count) lines, allowed 1...\(rules.maxLines)")
            }
            for (n, line) in cue.lines.enumerated() {
                // A lone word longer than a line cannot be broken, so it is the one allowed overrun.
                if line.count > rules.maxLineChars && line.contains(" ") {
                    report("line \(n + 1) has \(line.count) characters > \(rules.maxLineChars)")
                }
                if line.allSatisfy(\.isWhitespace) { report("line \(n + 1) is empty") }
                if line.contains("-->") { report("line \(n + 1) contains \"-->\"") }
            }
            let duration = cue.end - cue.start
            let cps = Double(cue.lines.reduce(0) { $0 + $1.count }) / duration
            if cps > rules.maxCharsPerSecond + slack {
                report("\(fixed(cps, 1)) characters per second > \(fixed(rules.maxCharsPerSecond, 1))")
            }
            if duration < rules.minDuration - slack {
                report("duration \(fixed(duration)) s < minimum \(fixed(rules.minDuration)) s")
            }
            if duration > rules.maxDuration + slack {
                report("duration \(fixed(duration)) s > maximum \(fixed(rules.maxDuration)) s")
            }
            guard k > 0 else { continue }
            let previous = cues[k - 1], gap = cue.start - previous.end
            if cue.start < previous.start {
                report("starts before cue \(k)")
            } else if gap < 0 {
                report("overlaps cue \(k) by \(fixed(-gap)) s")
            } else if gap < rules.minGap - slack {
                report("gap after cue \(k) is \(fixed(gap)) s < minimum gap \(fixed(rules.minGap)) s")
            }
        }
        return found
    }

    // MARK: - Internals

    struct Token { var start: Double, end: Double, text: String, speaker: String?, segmentEnd = false }
    struct Draft { var cue: Cue, firstWordEnd: Double }

    private static func tokens(_ segments: [[TimedWord]]) -> [Token] {
        var out: [Token] = []
        for segment in segments {
            let before = out.count
            for word in segment {
                // Re-splitting also cleans the text and catches engines that put several words in one token.
                for w in words(start: word.start, end: word.end, text: word.text, speaker: word.speaker) {
                    out.append(Token(start: w.start, end: w.end, text: w.text, speaker: w.speaker))
                }
            }
            if out.count > before { out[out.count - 1].segmentEnd = true }
        }
        // Recognisers occasionally emit words slightly out of order; cues must be time-ordered.
        return out.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
    }

    static let articles: Set<String> = ["a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "that"]
    static let joiners: Set<String> = ["and", "but", "or", "so", "because", "that", "which", "who", "when", "where", "while",
                                       "if", "to", "of", "in", "on", "at", "for", "with", "from", "as", "than",
                                       "until", "after", "before", "since", "unless", "although", "whether", "by", "into"]

    static func lastMark(_ word: Token) -> Character? { word.text.reversed().first { !"\"'”’)]»".contains($0) } }
    static func endsSentence(_ word: Token) -> Bool { lastMark(word).map { ".!?…".contains($0) } ?? false }

    /// Cost of ending a line or cue after `word`; lower is a more natural phrase boundary.
    static func breakCost(after word: Token, before next: Token) -> Double {
        let last = lastMark(word)
        let bare = { (s: String) in s.lowercased().filter { $0.isLetter || $0 == "'" } }
        var cost: Double
        if endsSentence(word) { cost = 0 }
        else if let last, ",;:—–".contains(last) { cost = 2 }
        else if articles.contains(bare(word.text)) { return 1000 }  // "the | lighthouse" is never acceptable
        else if joiners.contains(bare(next.text)) { cost = 4 }
        else { cost = 8 }
        if word.segmentEnd { cost = min(cost, 1) }
        // A pause is a boundary the viewer hears, punctuation or not.
        return cost - 2 * min(max(next.start - word.end, 0), 2)
    }

    struct Planner {
        let words: [Token]
        let rules: SubtitleRules
        let prefix: [Int]   // prefix[k]: characters in words[0..<k]
        let cut: [Double]   // cut[k]: cost of a break after words[k]
        let stops: [Int]    // stops[k]: sentence ends among words[0..<k]

        init(words: [Token], rules: SubtitleRules) {
            self.words = words
            self.rules = rules
            prefix = words.reduce(into: [0]) { $0.append($0.last! + $1.text.count) }
            cut = words.indices.map { $0 + 1 < words.count ? CueLayout.breakCost(after: words[$0], before: words[$0 + 1]) : 0 }
            stops = words.reduce(into: [0]) { $0.append($0.last! + (CueLayout.endsSentence($1) ? 1 : 0)) }
        }

        /// Characters of words[r] on one line, spaces included.
        func width(_ r: Range<Int>) -> Int { prefix[r.upperBound] - prefix[r.lowerBound] + r.count - 1 }

        /// Splits one speaker's run into cues by dynamic programming over cue end points.
        func split(_ run: Range<Int>) -> [Draft] {
            let base = run.lowerBound
            var best = [Double](repeating: .infinity, count: run.count + 1)
            var from = [Int](repeating: 0, count: run.count + 1)
            var breaks = [[Int]](repeating: [], count: run.count + 1)
            best[0] = 0
            for j in (base + 1)...run.upperBound {
                for i in stride(from: j - 1, through: base, by: -1) {
                    let r = i..<j
                    let raw = words[j - 1].end - words[i].start
                    // Both only grow as the cue reaches further back, so nothing earlier can fit either.
                    if r.count > 1 && (raw > rules.maxDuration || width(r) >= rules.maxLines * (rules.maxLineChars + 1)) { break }
                    guard best[i - base] < .infinity, let layout = lines(r) else { continue }
                    // A cue break interrupts reading more than a line break does, so it pays triple.
                    let cost = best[i - base] + layout.cost + timingCost(r) + (j < run.upperBound ? 3 * cut[j - 1] : 0)
                    if cost < best[j - base] {
                        (best[j - base], from[j - base], breaks[j - base]) = (cost, i, layout.breaks)
                    }
                }
            }
            var drafts: [Draft] = []
            var j = run.upperBound
            while j > base {
                let i = from[j - base], bounds = [i] + breaks[j - base] + [j]
                let lines = zip(bounds, bounds.dropFirst()).map { words[$0..<$1].map(\.text).joined(separator: " ") }
                let cue = Cue(start: words[i].start, end: words[j - 1].end, lines: lines, speaker: words[i].speaker)
                drafts.append(Draft(cue: cue, firstWordEnd: words[i].end))
                j = i
            }
            return drafts.reversed()
        }

        /// Best way to put words[r] on the fewest lines that fit: break points (word indices starting a new line) and cost.
        func lines(_ r: Range<Int>) -> (breaks: [Int], cost: Double)? {
            if r.count == 1 || width(r) <= rules.maxLineChars { return ([], 0) }
            for count in stride(from: 2, through: rules.maxLines, by: 1) {
                let ideal = Double(width(r) - (count - 1)) / Double(count)
                // best[l][e]: cost of words[r.lowerBound ..< r.lowerBound + e] on l lines.
                var best = [[Double]](repeating: [Double](repeating: .infinity, count: r.count + 1), count: count + 1)
                var from = [[Int]](repeating: [Int](repeating: 0, count: r.count + 1), count: count + 1)
                best[0][0] = 0
                for l in 1...count {
                    let isLast = l == count
                    for e in (isLast ? r.count : l)...r.count {
                        for s in (l - 1)..<e where best[l - 1][s] < .infinity {
                            let line = (r.lowerBound + s)..<(r.lowerBound + e), w = Double(width(line))
                            guard w <= Double(rules.maxLineChars) || line.count == 1 else { continue }
                            // Balanced lines read best; when uneven, a longer bottom line keeps the picture clearer.
                            var cost = best[l - 1][s] + 3 * abs(w - ideal) / Double(rules.maxLineChars)
                            // A new sentence should start on a new line, not halfway along one.
                            cost += 6 * Double(stops[line.upperBound - 1] - stops[line.lowerBound])
                            if !isLast { cost += cut[line.upperBound - 1] + (w > ideal + 0.5 ? 0.5 : 0) }
                            if cost < best[l][e] { (best[l][e], from[l][e]) = (cost, s) }
                        }
                    }
                }
                guard best[count][r.count] < .infinity else { continue }
                var breaks: [Int] = [], e = r.count
                for l in stride(from: count, to: 1, by: -1) {
                    e = from[l][e]
                    breaks.insert(r.lowerBound + e, at: 0)
                }
                return (breaks, best[count][r.count])
            }
            return nil
        }

        /// Estimates how the cue will be timed (see `timed`) and penalises what would break the reading rules.
        func timingCost(_ r: Range<Int>) -> Double {
            let start = words[r.lowerBound].start
            let room = r.upperBound < words.count ? words[r.upperBound].start - rules.minGap - start : .infinity
            let chars = Double(width(r))
            let wanted = max(words[r.upperBound - 1].end - start, rules.minDuration, chars / rules.maxCharsPerSecond)
            // The 2 ms margin covers rounding to whole milliseconds.
            let shown = max(min(wanted, rules.maxDuration, room - 0.002), 0.001)
            var cost = 1.5  // per cue, so the layout prefers fewer, fuller cues over a flicker of fragments
            let excess = chars - shown * rules.maxCharsPerSecond
            // Charged per second of speech the cue covers, not per cue: where speech is simply too fast, every
            // split costs the same and phrasing decides; where a small overrun is avoidable, other breaks win.
            if excess > 0 { cost += 30 * (room.isFinite ? room + rules.minGap : shown) + 5 * excess }
            // Reaching the minimum would delay the next cue and steal its reading time, which this estimate cannot see.
            if shown < rules.minDuration { cost += 100 }
            return cost
        }
    }

    /// Final times on whole milliseconds (what SRT/VTT can express), rounded in the direction that keeps each rule.
    private static func timed(_ drafts: [Draft], _ rules: SubtitleRules) -> [Cue] {
        func up(_ t: Double) -> Double { (t * 1000 - 1e-6).rounded(.up) / 1000 }
        func down(_ t: Double) -> Double { (t * 1000 + 1e-6).rounded(.down) / 1000 }
        var cues = drafts.map(\.cue)
        for k in cues.indices { cues[k].start = (cues[k].start * 1000).rounded() / 1000 }
        for k in cues.indices {
            let start = cues[k].start
            let chars = Double(cues[k].lines.reduce(0) { $0 + $1.count })
            let wanted = max(cues[k].end, start + rules.minDuration, start + chars / rules.maxCharsPerSecond)
            var end = min(up(wanted), down(start + rules.maxDuration))
            if k + 1 < cues.count, end > down(cues[k + 1].start - rules.minGap) {
                let next = cues[k + 1].start
                // Trim into the gap, but not below the minimum duration; the next cue may instead start
                // a little late, though never after its first word has been spoken.
                end = max(down(next - rules.minGap), min(end, up(start + rules.minDuration)))
                let latest = max(next, down(drafts[k + 1].firstWordEnd))
                cues[k + 1].start = min(max(next, up(end + rules.minGap)), latest)
                end = min(end, down(cues[k + 1].start - rules.minGap))
            }
            // Degenerate input (words stacked on one instant) can leave no room at all; order beats the gap rule.
            end = max(end, start + 0.001)
            if k + 1 < cues.count { cues[k + 1].start = max(cues[k + 1].start, end) }
            cues[k].end = end
        }
        return cues
    }

    private static func fixed(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
}

public enum SubtitleFormat {
    public static func srt(_ cues: [Cue]) -> String {
        cues.enumerated().map { k, cue in
            "\(k + 1)\n\(stamp(cue.start, comma: true)) --> \(stamp(cue.end, comma: true))\n"
                + labelled(cue.lines, cue.speaker.map { "[\($0)] " }) + "\n\n"
        }.joined()
    }

    public static func vtt(_ cues: [Cue]) -> String {
        // WebVTT cue text is markup, so a literal "<" or "&" would start a tag or entity.
        let escape = { (s: String) in
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        return "WEBVTT\n\n" + cues.map { cue in
            "\(stamp(cue.start, comma: false)) --> \(stamp(cue.end, comma: false))\n"
                + labelled(cue.lines.map(escape), cue.speaker.map { "<v \(escape($0))>" }) + "\n\n"
        }.joined()
    }

    /// HH:MM:SS,mmm (or HH:MM:SS.mmm); garbage times print as zero rather than trap.
    public static func stamp(_ t: Double, comma: Bool) -> String {
        let total = t.isFinite ? Int((min(max(0, t), 1e9) * 1000).rounded()) : 0
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(total / 3_600_000, 2)):\(pad(total / 60_000 % 60, 2)):\(pad(total / 1000 % 60, 2))"
            + (comma ? "," : ".") + pad(total % 1000, 3)
    }

    private static func labelled(_ lines: [String], _ label: String?) -> String {
        var lines = lines
        if let label, !lines.isEmpty { lines[0] = label + lines[0] }
        return lines.joined(separator: "\n")
    }
}
