import Foundation
import PostgresNIO
import Store

/// Search by meaning on the shared store: the SQLite store's vectors, in PostgreSQL (migration 6). `recap run`
/// on any host embeds what is missing (``textsNeedingVectors(model:limit:)`` until empty, resumable); `recap
/// search` loads one model's vectors into memory and searches them exhaustively, as on SQLite.
extension PostgresJobStore: VectorStore {
    public func textsNeedingVectors(model: String, limit: Int) async throws -> [PendingText] {
        try await query("""
            SELECT e.text_hash, min(e.text) FROM search_entries e
            WHERE NOT EXISTS (SELECT 1 FROM embeddings v WHERE v.model = \(model) AND v.text_hash = e.text_hash)
            GROUP BY e.text_hash ORDER BY e.text_hash LIMIT \(Int64(limit))
            """).map { row in
            let (hash, text) = try row.decode((String, String).self)
            return PendingText(hash: hash, text: text)
        }
    }

    public func saveVectors(model: String, _ vectors: [(hash: String, vector: [Float])]) async throws {
        guard !vectors.isEmpty else { return }
        let hashes = vectors.map(\.hash)
        let blobs = vectors.map { ByteBuffer(data: HalfFloat.encode(JobStore.normalised($0.vector))) }
        try await query("""
            INSERT INTO embeddings (model, text_hash, vector)
            SELECT \(model), h, v FROM unnest(\(hashes)::text[], \(blobs)::bytea[]) AS t(h, v)
            ON CONFLICT (model, text_hash) DO UPDATE SET vector = excluded.vector
            """)
    }

    public func vectorCoverage(model: String) async throws -> (embedded: Int, total: Int) {
        guard let row = try await query("""
            SELECT (SELECT count(DISTINCT text_hash) FROM search_entries),
              (SELECT count(*) FROM embeddings v WHERE v.model = \(model)
                 AND EXISTS (SELECT 1 FROM search_entries e WHERE e.text_hash = v.text_hash))
            """).first else { return (0, 0) }
        let (total, embedded) = try row.decode((Int64, Int64).self)
        return (Int(embedded), Int(total))
    }

    @discardableResult
    public func pruneVectors() async throws -> Int {
        try await query("""
            DELETE FROM embeddings v WHERE NOT EXISTS (SELECT 1 FROM search_entries e WHERE e.text_hash = v.text_hash)
            RETURNING 1
            """).count
    }

    public func vectorIndex(model: String) async throws -> VectorIndex? {
        let rows = try await query("""
            SELECT e.id, e.job_id, v.vector FROM search_entries e
            JOIN embeddings v ON v.model = \(model) AND v.text_hash = e.text_hash ORDER BY e.id
            """)
        var index: VectorIndex?
        for row in rows {
            let (id, jobID, bytes) = try row.decode((Int64, Int64, ByteBuffer).self)
            let data = Data(bytes.readableBytesView)
            if index == nil {
                index = VectorIndex(dimensions: data.count / 2)
                index?.reserveCapacity(rows.count)
            }
            _ = index?.append(entryID: id, jobID: jobID, halfFloatBytes: data)
        }
        return index
    }

    /// Words (``wordMatches(_:filters:limit:)``) and the nearest entries the filters allow, fused.
    public func hybridSearch(_ text: String, vector: [Float]?, index: VectorIndex?, filters: SearchFilters, limit: Int,
                             minSimilarity: Double, depth: Int = 100) async throws -> [HybridHit] {
        let words = try await wordMatches(text, filters: filters, limit: depth)
        var meaning: [VectorIndex.Match] = []
        if let vector, let index, index.dimensions == vector.count {
            let allowed = try await allowedEntries(filters)
            meaning = index.nearest(to: JobStore.normalised(vector), limit: depth, minimum: Float(minSimilarity),
                                    allow: allowed.map { set in { set.contains(index.entryIDs[$0]) } })
        }
        return HybridHit.fuse(words: words, meaning: meaning, entries: try await entries(meaning.map(\.entryID)), limit: limit)
    }

    /// Hits for entry ids, the passage itself as the snippet (shortened at a word, as on SQLite).
    private func entries(_ ids: [Int64]) async throws -> [Int64: HybridHit] {
        guard !ids.isEmpty else { return [:] }
        var out: [Int64: HybridHit] = [:]
        for row in try await query("""
            SELECT id, job_id, path, kind, start_s, end_s, speaker, text FROM search_entries WHERE id = ANY(\(ids)::bigint[])
            """) {
            let (id, jobID, path, kind, start, end, speaker, text) =
                try row.decode((Int64, Int64, String, String, Double?, Double?, String?, String).self)
            out[id] = HybridHit(jobID: jobID, path: path, kind: SearchKind(rawValue: kind), start: start, end: end,
                                speaker: speaker, snippet: JobStore.shortened(text), score: 0)
        }
        return out
    }
}
