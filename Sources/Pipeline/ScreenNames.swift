import Foundation

/// What is heard is reconciled with what is shown before summarizing: a name on a slide that the transcript
/// misheard ("Stratus" for SOSTRATUS, "Pharaohs" for PHAROS) is taken from the screen. Only words the
/// transcript never spells right are candidates, both at least 5 letters and close in spelling (edit distance
/// at most 30% of the longer), so ordinary words ("tell"/"tall") are never touched. Two more cases, each tied to
/// the words around it, since a short word alone proves nothing:
/// - a name the recogniser was unsure of (probability under 0.5, or unknown) whose neighbour matches a word on a
///   slide, and the slide's word at its place was never said and is spelled alike (within 60%, accents aside):
///   "visiting Poke and Chain" beside SPOKE AND CHAIN, "King Tóli II" beside FOR PTOLEMY II;
/// - a number said in a sentence that shares a word with a slide line showing another number of as many digits,
///   one digit apart, never said: "the budget is 100,000" beside BUDGET: 180,000 NOK. Only in that sentence.
/// The transcript in the output stays as heard; the summary's evidence uses the screen's spelling, and
/// provenance lists each swap.
struct ScreenNames {
    struct Swap: Sendable, Equatable {
        var heard: String
        var shown: String
        /// The segments it applies to (by index); nil: everywhere.
        var segments: Set<Int>? = nil
    }
    let swaps: [Swap]
    /// A heard name below this probability is uncertain enough to take a slide's spelling from its neighbours.
    static let unsure = 0.5

    init(_ e: Evidence) {
        let spoken = e.segments.flatMap { Self.tokens($0.text) }
        let spokenSet = Set(spoken.map { $0.lowercased() })
        let shown = Set(e.scenes.flatMap { Self.tokens($0.ocrText) }.map { $0.lowercased() })
            .filter { $0.count >= 5 && !spokenSet.contains($0) && !Extractive.stopwords.contains($0) }
        var swaps: [Swap] = []
        var done = Set<String>()
        for word in spoken where word.count >= 5 && done.insert(word.lowercased()).inserted && !shown.contains(word.lowercased()) {
            let w = word.lowercased()
            let best = shown.map { ($0, Self.distance(w, $0)) }.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
            // Not another form of the same word ("partners"/"partnership", "spread"/"spreads"): the speaker said
            // what they meant, and a swap would put the slide's wording into their sentence.
            if let (term, d) = best, Double(d) <= 0.3 * Double(max(w.count, term.count)), abs(w.count - term.count) <= 3,
               !Self.sameStem(w, term) {
                // Written as the transcript capitalises the word (a name mid-sentence keeps its capital).
                let shownWord = word.first?.isUppercase == true ? term.prefix(1).uppercased() + term.dropFirst() : term
                swaps.append(Swap(heard: word, shown: shownWord))
            }
        }
        swaps += Self.anchored(e, spoken: spokenSet, already: Set(swaps.map { $0.heard.lowercased() }))
        swaps += Self.numbers(e, names: swaps)
        self.swaps = swaps
    }

    /// Uncertain names placed by a neighbouring word that a slide shows too.
    static func anchored(_ e: Evidence, spoken: Set<String>, already: Set<String>) -> [Swap] {
        // The lowest probability each word was heard with (words carry punctuation: "Chain,").
        var probability: [String: Double] = [:]
        for s in e.segments {
            for w in s.words ?? [] {
                guard let p = w.probability else { continue }
                let t = tokens(w.text).joined().lowercased()
                probability[t] = min(p, probability[t] ?? 1)
            }
        }
        let lines = e.scenes.flatMap { $0.ocrText.split(whereSeparator: \.isNewline).map { tokens(String($0)).map { $0.lowercased() } } }
        var out: [Swap] = [], done = already
        for s in e.segments {
            // Sentence starts are capitalised anyway: only a capital inside a sentence marks a name.
            let raw = s.text.split(separator: " ").map(String.init)
            for (i, r) in raw.enumerated() where i > 0 {
                let word = tokens(r).joined()
                let w = word.lowercased()
                guard word.count >= 2, word.first?.isUppercase == true, !done.contains(w),
                      let prevLast = raw[i - 1].last, !".!?:".contains(prevLast) else { continue }
                if let p = probability[w], p >= unsure { continue }
                let prev = tokens(raw[i - 1]).joined().lowercased()
                let next = i + 1 < raw.count ? tokens(raw[i + 1]).joined().lowercased() : ""
                var best: (String, Int)?
                for line in lines {
                    for (j, term) in line.enumerated() where term.count >= 3 && !spoken.contains(term) && !Extractive.stopwords.contains(term) {
                        let anchored = (j > 0 && line[j - 1] == prev) || (j + 1 < line.count && !next.isEmpty && line[j + 1] == next)
                        guard anchored else { continue }
                        let d = distance(fold(w), term)
                        // Known to be unsure: spelled alike within 60%; of unknown certainty: within 30%, as above.
                        let limit = probability[w] == nil ? 0.3 : 0.6
                        if Double(d) <= limit * Double(max(w.count, term.count)), best == nil || d < best!.1 { best = (term, d) }
                    }
                }
                if let (term, _) = best {
                    done.insert(w)
                    out.append(Swap(heard: word, shown: term.prefix(1).uppercased() + term.dropFirst()))
                }
            }
        }
        return out
    }

    /// Numbers a slide shows in the same context, one digit apart from what was heard.
    static func numbers(_ e: Evidence, names: [Swap]) -> [Swap] {
        func digits(_ t: String) -> String { t.filter(\.isNumber) }
        func numberTokens(_ text: String) -> [String] {
            let ns = text as NSString
            return (try? NSRegularExpression(pattern: #"\d[\d,]*\d|\d"#))?.matches(in: text, range: NSRange(location: 0, length: ns.length))
                .map { ns.substring(with: $0.range) } ?? []
        }
        func context(_ text: String) -> Set<String> {
            Set(Extractive.words(text).filter { $0.count >= 4 && !$0.contains(where: \.isNumber) }.map(GroundingGate.stem))
        }
        let segments = names.isEmpty ? e.segments : ScreenNames(swaps: names).apply(e).segments
        let heard = Set(segments.flatMap { numberTokens($0.text).map(digits) })
        let shownLines = e.scenes.flatMap { $0.ocrText.split(whereSeparator: \.isNewline).map(String.init) }
        let shown = Set(shownLines.flatMap { numberTokens($0).map(digits) })
        var out: [Swap] = []
        for (k, s) in segments.enumerated() {
          for sentence in GroundingGate.sentences(s.text) {
            let words = context(sentence)
            for token in numberTokens(sentence) {
                let n = digits(token)
                guard n.count >= 2, !shown.contains(n) else { continue }
                func oneDigitOff(_ m: String) -> Bool {
                    guard m.count == n.count, !heard.contains(m) else { return false }
                    return zip(m, n).filter { $0 != $1 }.count == 1
                }
                let lines = shownLines.filter { !words.isDisjoint(with: context($0)) }
                let candidates: Set<String> = Set(lines.flatMap { numberTokens($0).map(digits) }.filter(oneDigitOff))
                // One reading only: two slide numbers that could both be meant are left alone.
                guard candidates.count == 1, let m = candidates.first else { continue }
                // Written the way it was heard: "100,000" becomes "180,000", "40" becomes "42".
                let written = token.contains(",") ? Self.grouped(m) : m
                if let i = out.firstIndex(where: { $0.heard == token && $0.shown == written }) {
                    out[i].segments?.insert(k)
                } else {
                    out.append(Swap(heard: token, shown: written, segments: [k]))
                }
            }
          }
        }
        return out
    }

    private init(swaps: [Swap]) { self.swaps = swaps }

    /// "180000" → "180,000".
    static func grouped(_ digits: String) -> String {
        var out = "", count = 0
        for c in digits.reversed() {
            if count > 0 && count % 3 == 0 { out.append(",") }
            out.append(c); count += 1
        }
        return String(out.reversed())
    }

    /// Lower case without accents: "Tóli" → "toli".
    static func fold(_ s: String) -> String {
        s.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
    }

    /// The evidence with each misheard name spelled as shown.
    func apply(_ e: Evidence) -> Evidence {
        guard !swaps.isEmpty else { return e }
        var out = e
        out.segments = e.segments.enumerated().map { k, s in
            var s = s
            for swap in swaps where swap.segments?.contains(k) ?? true {
                s.text = s.text.replacingOccurrences(of: "\\b\(NSRegularExpression.escapedPattern(for: swap.heard))\\b", with: swap.shown,
                                                     options: .regularExpression)
            }
            return s
        }
        return out
    }

    var provenance: String? {
        swaps.isEmpty ? nil : swaps.map { "\"\($0.heard)\" heard, \"\($0.shown)\" shown" }.joined(separator: "; ")
    }

    /// One word starts with the other, give or take a final letter ("scribe"/"scribes", "partners"/"partnership").
    static func sameStem(_ a: String, _ b: String) -> Bool {
        let common = zip(a, b).prefix { $0 == $1 }.count
        return common >= min(a.count, b.count) - 1
    }

    static func tokens(_ text: String) -> [String] {
        text.split { !$0.isLetter }.map(String.init)
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
