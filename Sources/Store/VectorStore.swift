import Foundation

/// Where search vectors live and how they are searched: both stores keep one vector per distinct indexed text
/// and embedding model (``VectorIndexing`` in Pipeline fills them, resumably), load a model's vectors into a
/// ``VectorIndex`` for exhaustive search, and fuse that with their word search (``HybridHit/fuse``).
public protocol VectorStore: WordSearching, Sendable {
    /// Up to `limit` distinct indexed texts with no vector from `model`.
    func textsNeedingVectors(model: String, limit: Int) async throws -> [PendingText]
    /// Saves vectors (normalised, as half floats). Idempotent: two runs embedding one text both succeed.
    func saveVectors(model: String, _ vectors: [(hash: String, vector: [Float])]) async throws
    /// How many distinct indexed texts have a vector from `model`, of how many.
    func vectorCoverage(model: String) async throws -> (embedded: Int, total: Int)
    /// Deletes vectors no entry uses any more; returns how many.
    @discardableResult
    func pruneVectors() async throws -> Int
    /// Every entry with a vector from `model`, in memory; nil when none has one.
    func vectorIndex(model: String) async throws -> VectorIndex?
    /// Words and, given the query's vector and an index of the same model, meaning, fused (see
    /// ``JobStore/hybridSearch(_:vector:index:filters:limit:minSimilarity:depth:)``).
    func hybridSearch(_ text: String, vector: [Float]?, index: VectorIndex?, filters: SearchFilters, limit: Int,
                      minSimilarity: Double, depth: Int) async throws -> [HybridHit]
}

extension HybridHit {
    /// Reciprocal rank fusion of the two rankings: each list adds 1/(60 + rank), so a passage found both ways
    /// rises above one found either way, with no calibration between word scores and cosines.
    /// - Parameters:
    ///   - words: word hits, best first, keyed by entry id.
    ///   - meaning: the nearest entries, best first; `entries` has their hits (an id missing there was
    ///     re-indexed since the index was loaded, and is skipped).
    public static func fuse(words: [(Int64, HybridHit)], meaning: [VectorIndex.Match], entries: [Int64: HybridHit],
                            limit: Int) -> [HybridHit] {
        var hits: [Int64: HybridHit] = [:]
        for (i, (id, hit)) in words.enumerated() {
            var h = hit
            h.wordRank = i + 1
            h.score = fusionScore(rank: i + 1)
            hits[id] = h
        }
        for (i, m) in meaning.enumerated() {
            guard let row = entries[m.entryID] else { continue }
            var h = hits[m.entryID] ?? row
            h.meaningRank = i + 1
            h.similarity = Double(m.similarity)
            h.score += fusionScore(rank: i + 1)
            hits[m.entryID] = h
        }
        return hits.values.sorted {
            ($0.score, $0.similarity ?? 0, -$0.jobID, -($0.start ?? 0)) > ($1.score, $1.similarity ?? 0, -$1.jobID, -($1.start ?? 0))
        }.prefix(limit).map { $0 }
    }
}
