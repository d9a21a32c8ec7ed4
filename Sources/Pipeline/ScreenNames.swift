import Foundation

/// What is heard is reconciled with what is shown before summarizing: a name on a slide that the transcript
/// misheard ("Stratus" for SOSTRATUS, "Pharaohs" for PHAROS) is taken from the screen. Only words the
/// transcript never spells right are candidates, both at least 5 letters and close in spelling (edit distance
/// at most 30% of the longer), so ordinary words ("tell"/"tall") are never touched. The transcript in the
/// output stays as heard; the summary's evidence uses the screen's spelling, and provenance lists each swap.
struct ScreenNames {
    struct Swap: Sendable, Equatable { var heard: String; var shown: String }
    let swaps: [Swap]

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
        self.swaps = swaps
    }

    /// The evidence with each misheard name spelled as shown.
    func apply(_ e: Evidence) -> Evidence {
        guard !swaps.isEmpty else { return e }
        var out = e
        out.segments = e.segments.map { s in
            var s = s
            for swap in swaps {
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
