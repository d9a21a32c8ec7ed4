import Foundation

/// The extractive half of grounding: the transcript's most central sentences, verbatim, with their times.
/// A small model drops facts; sentences copied from what was said cannot be invented. Centrality is
/// LexRank-style: TF-IDF vectors, cosine similarity graph, power iteration.
public enum Extractive {
    public struct Sentence: Sendable, Equatable {
        public var text: String
        public var start: Double
    }

    /// Splits segments into sentences, keeping each sentence's start time (a segment's start when a
    /// sentence begins inside it).
    public static func sentences(_ segments: [RecapOutput.Segment]) -> [Sentence] {
        var out: [Sentence] = []
        var current = "", start: Double? = nil
        for seg in segments {
            for token in seg.text.split(separator: " ", omittingEmptySubsequences: true) {
                if current.isEmpty { start = seg.start }
                current += (current.isEmpty ? "" : " ") + token
                if let last = token.last, ".!?".contains(last), current.split(separator: " ").count >= 3 {
                    out.append(Sentence(text: current, start: start ?? seg.start)); current = ""
                }
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if rest.split(separator: " ").count >= 2 { out.append(Sentence(text: rest, start: start ?? 0)) }
        return out
    }

    static let stopwords: Set<String> = [
        "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "is", "are", "was", "were",
        "be", "been", "it", "its", "this", "that", "these", "those", "as", "by", "from", "we", "you", "i", "he", "she",
        "they", "them", "our", "your", "my", "his", "her", "their", "not", "no", "so", "if", "then", "than", "there",
        "here", "have", "has", "had", "do", "does", "did", "will", "would", "can", "could", "should", "about", "into",
        "what", "which", "who", "when", "where", "how", "all", "also", "just", "more", "some", "very", "up", "out",
        "now", "one", "us", "me", "let", "lets", "let's", "s", "t",
    ]

    public static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "'" }
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
            .filter { $0.count > 1 && !stopwords.contains($0) }
    }

    /// The `count` most central sentences, returned in time order with their scores.
    public static func central(_ sentences: [Sentence], count: Int) -> [(Sentence, Double)] {
        guard !sentences.isEmpty, count > 0 else { return [] }
        let docs = sentences.map { words($0.text) }
        var df: [String: Double] = [:]
        for d in docs { for w in Set(d) { df[w, default: 0] += 1 } }
        let n = Double(docs.count)
        let vectors: [[String: Double]] = docs.map { d in
            var tf: [String: Double] = [:]
            for w in d { tf[w, default: 0] += 1 }
            return tf.mapValues { $0 }.reduce(into: [:]) { acc, kv in acc[kv.key] = kv.value * log((n + 1) / (df[kv.key]! + 0.5)) }
        }
        let norms = vectors.map { sqrt($0.values.reduce(0) { $0 + $1 * $1 }) }
        let k = docs.count
        var sim = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for i in 0..<k { for j in (i + 1)..<max(i + 1, k) where j < k {
            guard norms[i] > 0, norms[j] > 0 else { continue }
            var dot = 0.0
            for (w, v) in vectors[i] { if let u = vectors[j][w] { dot += v * u } }
            let s = dot / (norms[i] * norms[j])
            sim[i][j] = s; sim[j][i] = s
        } }
        // PageRank over the similarity graph (damping 0.85), a few iterations suffice at this size.
        var score = [Double](repeating: 1 / Double(k), count: k)
        let rowSums = sim.map { $0.reduce(0, +) }
        for _ in 0..<30 {
            var next = [Double](repeating: 0.15 / Double(k), count: k)
            for j in 0..<k where rowSums[j] > 0 { for i in 0..<k where sim[j][i] > 0 {
                next[i] += 0.85 * score[j] * sim[j][i] / rowSums[j]
            } }
            score = next
        }
        // Longer, content-bearing sentences win ties; fragments are rarely the point.
        let ranked = (0..<k).sorted { a, b in
            let sa = score[a] * (1 + min(Double(docs[a].count), 12) / 24), sb = score[b] * (1 + min(Double(docs[b].count), 12) / 24)
            return sa != sb ? sa > sb : a < b
        }
        // A repeated sentence (a refrain, a slide read twice) is one fact: keep the first of near-duplicates.
        var chosen: [Int] = []
        for i in ranked where chosen.count < count {
            if !chosen.contains(where: { sim[$0][i] > 0.9 || docs[$0] == docs[i] }) { chosen.append(i) }
        }
        return chosen.sorted().map { (sentences[$0], score[$0]) }
    }

    /// The `count` most distinctive words of a text (TF against a stopword list), for keywords and tags.
    public static func keywords(_ text: String, count: Int) -> [String] {
        var tf: [String: Int] = [:]
        for w in words(text) where w.count > 3 && !w.allSatisfy(\.isNumber) { tf[w, default: 0] += 1 }
        return tf.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(count).map(\.key)
    }
}
