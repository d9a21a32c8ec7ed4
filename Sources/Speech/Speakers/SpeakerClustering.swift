import Foundation

/// Groups voice embeddings into speakers: agglomerative clustering with average linkage on cosine
/// similarity, merging while the two closest groups are more alike than `threshold`. The number of speakers
/// is not given; it falls out of the threshold. Items are weighted by their duration so a long turn counts
/// more than a cough.
public enum SpeakerClustering {
    /// Two voices more alike than this are one speaker (GE2E embeddings of one voice measured 0.8–0.95 here,
    /// two different espeak-ng voices below 0.7).
    public static let defaultThreshold: Float = 0.75

    /// A cluster index per embedding, numbered by first appearance (0 = whoever speaks first).
    public static func cluster(_ embeddings: [[Float]], weights: [Double]? = nil, threshold: Float = defaultThreshold) -> [Int] {
        let n = embeddings.count
        guard n > 1 else { return Array(repeating: 0, count: n) }
        let w = weights ?? Array(repeating: 1, count: n)
        var groups: [[Int]] = (0..<n).map { [$0] }
        var sim = [[Float]](repeating: [Float](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in (i + 1)..<n { let s = dot(embeddings[i], embeddings[j]); sim[i][j] = s; sim[j][i] = s } }
        // Average linkage, weighted: the mean similarity between members, each pair weighted by both durations.
        func linkage(_ a: [Int], _ b: [Int]) -> Float {
            var total: Double = 0, weight: Double = 0
            for i in a { for j in b { total += Double(sim[i][j]) * w[i] * w[j]; weight += w[i] * w[j] } }
            return weight > 0 ? Float(total / weight) : 0
        }
        while groups.count > 1 {
            var best: (Int, Int, Float)? = nil
            for a in 0..<groups.count {
                for b in (a + 1)..<groups.count {
                    let s = linkage(groups[a], groups[b])
                    if s > (best?.2 ?? -2) { best = (a, b, s) }
                }
            }
            guard let (a, b, s) = best, s >= threshold else { break }
            groups[a] += groups[b]
            groups.remove(at: b)
        }
        var label = [Int](repeating: 0, count: n)
        for (g, members) in groups.sorted(by: { ($0.min() ?? 0) < ($1.min() ?? 0) }).enumerated() {
            for m in members { label[m] = g }
        }
        return label
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
}
