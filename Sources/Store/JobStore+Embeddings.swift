import Foundation
import GRDB

/// A text that has no vector yet for some embedding model.
public struct PendingText: Sendable, Hashable {
    public var hash: String
    public var text: String

    public init(hash: String, text: String) { self.hash = hash; self.text = text }
}

extension JobStore: VectorStore {
    /// Up to `limit` distinct indexed texts with no vector from `model`. Embedding works through this list
    /// until it is empty, so the work is resumable: a killed run leaves saved vectors saved and the rest
    /// pending, and a text shared by many entries (or many copies of a file) is embedded once.
    public func textsNeedingVectors(model: String, limit: Int) throws -> [PendingText] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.textHash AS hash, MIN(e.text) AS text FROM searchEntries e
                WHERE e.textHash IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM embeddings v WHERE v.model = ? AND v.textHash = e.textHash)
                GROUP BY e.textHash LIMIT ?
                """, arguments: [model, limit]).map { PendingText(hash: $0["hash"], text: $0["text"]) }
        }
    }

    /// Saves vectors (normalised here, stored as half floats). Idempotent: the same text and model give the
    /// same row, so two runs embedding the same text at once both succeed.
    public func saveVectors(model: String, _ vectors: [(hash: String, vector: [Float])]) throws {
        try write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO embeddings (model, textHash, vector) VALUES (?, ?, ?)")
            for (hash, vector) in vectors {
                try insert.execute(arguments: [model, hash, HalfFloat.encode(Self.normalised(vector))])
            }
        }
    }

    /// How many distinct indexed texts have a vector from `model`, of how many.
    public func vectorCoverage(model: String) throws -> (embedded: Int, total: Int) {
        try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT textHash) FROM searchEntries") ?? 0
            let embedded = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM embeddings v WHERE v.model = ?
                  AND EXISTS (SELECT 1 FROM searchEntries e WHERE e.textHash = v.textHash)
                """, arguments: [model]) ?? 0
            return (embedded, total)
        }
    }

    /// Deletes vectors no entry uses any more (a re-indexed job's old texts). Vectors of other models stay
    /// while their texts are indexed, so switching models back and forth does not embed everything again.
    @discardableResult
    public func pruneVectors() throws -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM embeddings WHERE textHash NOT IN (SELECT textHash FROM searchEntries WHERE textHash IS NOT NULL)")
            return db.changesCount
        }
    }

    /// Every entry that has a vector from `model`, loaded into memory for search. Nil when none has.
    public func vectorIndex(model: String) throws -> VectorIndex? {
        try read { db in
            let count = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM searchEntries e JOIN embeddings v ON v.model = ? AND v.textHash = e.textHash
                """, arguments: [model]) ?? 0
            guard count > 0 else { return nil }
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT e.id, e.jobId, v.vector FROM searchEntries e
                JOIN embeddings v ON v.model = ? AND v.textHash = e.textHash ORDER BY e.id
                """, arguments: [model])
            var index: VectorIndex?
            while let row = try cursor.next() {
                // No copy: the bytes are read straight from SQLite's row buffer into the index.
                guard let data = row.dataNoCopy(atIndex: 2) else { continue }
                if index == nil {
                    index = VectorIndex(dimensions: data.count / 2)
                    index?.reserveCapacity(count)
                }
                index?.append(entryID: row[0], jobID: row[1], halfFloatBytes: data)
            }
            return index
        }
    }

    /// `v` scaled to length 1 (cosine similarity is then a dot product); a zero vector as it is.
    public static func normalised(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }
}

extension JobStore {
    /// Changes whenever the entries or `model`'s vectors change: a loaded ``VectorIndex`` with the same stamp
    /// is still current (a long-running `recap serve` reloads only then).
    public func vectorStamp(model: String) throws -> String {
        try read { db in
            let entries = try Row.fetchOne(db, sql: "SELECT COUNT(*), MAX(id) FROM searchEntries")
            let vectors = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM embeddings WHERE model = ?", arguments: [model]) ?? 0
            return "\(entries?[0] as Int? ?? 0)/\(entries?[1] as Int64? ?? 0)/\(vectors)"
        }
    }
}
