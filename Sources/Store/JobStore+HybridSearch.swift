import Foundation
import GRDB

/// What a search may be narrowed to. Every field is optional; nil means no limit.
public struct SearchFilters: Sendable, Hashable, Codable {
    /// Only media under this folder (an absolute path, as the jobs record them).
    public var folder: String?
    /// Media made at or after / before this time (Unix seconds; see `SearchMedia.date`).
    public var since: Double?
    public var until: Double?
    /// Media at least / at most this long, in seconds.
    public var minDuration: Double?
    public var maxDuration: Double?
    /// The spoken language code ("en").
    public var language: String?
    /// Only passages of this speaker ("Speaker 1").
    public var speaker: String?
    public var kinds: Set<SearchKind>?

    public init(folder: String? = nil, since: Double? = nil, until: Double? = nil, minDuration: Double? = nil,
                maxDuration: Double? = nil, language: String? = nil, speaker: String? = nil, kinds: Set<SearchKind>? = nil) {
        self.folder = folder; self.since = since; self.until = until
        self.minDuration = minDuration; self.maxDuration = maxDuration
        self.language = language; self.speaker = speaker; self.kinds = kinds
    }

    var isEmpty: Bool { self == SearchFilters() }
}

/// One result of a hybrid search: a moment in a file, why it matched, and how well.
public struct HybridHit: Sendable, Hashable, Codable {
    public var jobID: Int64
    public var path: String
    public var kind: SearchKind
    public var start: Double?
    public var end: Double?
    public var speaker: String?
    /// The passage, matched words wrapped in `[` `]` when it matched by words.
    public var snippet: String
    /// Reciprocal-rank-fusion score: higher is better; only comparable within one search.
    public var score: Double
    /// Cosine similarity to the query, when the passage was among the closest in meaning.
    public var similarity: Double?
    /// 1-based ranks in the two lists that were fused (nil: not in that list).
    public var wordRank: Int?
    public var meaningRank: Int?

    public init(jobID: Int64, path: String, kind: SearchKind, start: Double? = nil, end: Double? = nil, speaker: String? = nil,
                snippet: String, score: Double, similarity: Double? = nil, wordRank: Int? = nil, meaningRank: Int? = nil) {
        self.jobID = jobID; self.path = path; self.kind = kind; self.start = start; self.end = end; self.speaker = speaker
        self.snippet = snippet; self.score = score; self.similarity = similarity
        self.wordRank = wordRank; self.meaningRank = meaningRank
    }

    /// The score of the `rank`th (1-based) hit of one fused list: reciprocal rank fusion's 1/(60 + rank).
    public static func fusionScore(rank: Int) -> Double { 1.0 / Double(60 + rank) }
}

/// Search by words alone: what every store can do (meaning search needs the SQLite store's vectors). The query
/// is plain words, all of which must match; `word*` matches a prefix; operators in it are only words, so no
/// user input makes it fail. Hits come best first, as ``JobStore/hybridSearch`` gives them without a vector.
public protocol WordSearching {
    func wordSearch(_ query: String, filters: SearchFilters, limit: Int) async throws -> [HybridHit]
}

extension JobStore: WordSearching {
    public func wordSearch(_ query: String, filters: SearchFilters, limit: Int) throws -> [HybridHit] {
        try hybridSearch(query, filters: filters, limit: limit, depth: max(100, limit))
    }
}

extension JobStore {
    /// Searches by words (FTS5, BM25) and, given the query's vector and an index, by meaning, and fuses the
    /// two rankings with reciprocal rank fusion (each list adds 1/(60 + rank)). RRF needs no score
    /// calibration between BM25 and cosine, and a passage found both ways rises above one found either way.
    ///
    /// - Parameters:
    ///   - minSimilarity: meaning matches below this cosine are dropped: without a floor, the nearest
    ///     vectors of an unrelated query are still "nearest", and a search would never come back empty.
    ///   - depth: how many candidates each list contributes before fusion.
    public func hybridSearch(_ text: String, vector: [Float]? = nil, index: VectorIndex? = nil,
                             filters: SearchFilters = .init(), limit: Int = 20,
                             minSimilarity: Double = 0.3, depth: Int = 100) throws -> [HybridHit] {
        let allowed = try filters.isEmpty ? nil : allowedEntries(filters)
        let words = try wordMatches(text, allowed: allowed, limit: depth)
        var meaning: [VectorIndex.Match] = []
        if let vector, let index, index.dimensions == vector.count {
            meaning = index.nearest(to: JobStore.normalised(vector), limit: depth, minimum: Float(minSimilarity),
                                    allow: allowed.map { set in { set.contains(index.entryIDs[$0]) } })
        }
        return HybridHit.fuse(words: words, meaning: meaning, entries: try entries(meaning.map(\.entryID)), limit: limit)
    }

    /// Word matches, best BM25 first, keyed by entry id.
    private func wordMatches(_ query: String, allowed: Set<Int64>?, limit: Int) throws -> [(Int64, HybridHit)] {
        guard let pattern = Self.ftsPattern(query) else { return [] }
        return try read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.id, e.jobId, e.path, e.kind, e.start, e.end, e.speaker,
                  snippet(searchIndex, 0, '[', ']', '…', 24) AS snippet
                FROM searchIndex JOIN searchEntries e ON e.id = searchIndex.rowid
                WHERE searchIndex MATCH ? ORDER BY searchIndex.rank LIMIT ?
                """, arguments: [pattern, allowed == nil ? limit : -1]).compactMap { row -> (Int64, HybridHit)? in
                let id: Int64 = row["id"]
                if let allowed, !allowed.contains(id) { return nil }
                return (id, HybridHit(
                    jobID: row["jobId"], path: row["path"], kind: SearchKind(rawValue: row["kind"]), start: row["start"],
                    end: row["end"], speaker: row["speaker"], snippet: row["snippet"], score: 0))
            }.prefix(limit).map { $0 }
        }
    }

    /// Hits for entry ids, the passage itself as the snippet (shortened at a word).
    private func entries(_ ids: [Int64]) throws -> [Int64: HybridHit] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var out: [Int64: HybridHit] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, jobId, path, kind, start, end, speaker, text FROM searchEntries
                WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))
                """, arguments: StatementArguments(ids))
            for row in rows {
                out[row["id"]] = HybridHit(jobID: row["jobId"], path: row["path"], kind: SearchKind(rawValue: row["kind"]),
                                           start: row["start"], end: row["end"], speaker: row["speaker"],
                                           snippet: Self.shortened(row["text"]), score: 0)
            }
            return out
        }
    }

    /// The ids of every entry the filters let through.
    private func allowedEntries(_ f: SearchFilters) throws -> Set<Int64> {
        var clauses: [String] = [], args: [any DatabaseValueConvertible] = []
        if let folder = f.folder {
            let prefix = folder.hasSuffix("/") ? folder : folder + "/"
            clauses.append("substr(e.path, 1, ?) = ?")
            args += [prefix.utf8.count, prefix]
        }
        if let v = f.since { clauses.append("m.mediaDate >= ?"); args.append(v) }
        if let v = f.until { clauses.append("m.mediaDate < ?"); args.append(v) }
        if let v = f.minDuration { clauses.append("m.duration >= ?"); args.append(v) }
        if let v = f.maxDuration { clauses.append("m.duration <= ?"); args.append(v) }
        if let v = f.language { clauses.append("lower(m.language) = lower(?)"); args.append(v) }
        if let v = f.speaker { clauses.append("lower(e.speaker) = lower(?)"); args.append(v) }
        if let kinds = f.kinds, !kinds.isEmpty {
            clauses.append("e.kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))")
            args += kinds.map(\.rawValue)
        }
        let sql = "SELECT e.id FROM searchEntries e LEFT JOIN searchMedia m ON m.jobId = e.jobId"
            + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
        return try read { db in Set(try Int64.fetchAll(db, sql: sql, arguments: StatementArguments(args))) }
    }

    public static func shortened(_ text: String, limit: Int = 160) -> String {
        guard text.count > limit else { return text }
        let cut = text.prefix(limit)
        return (cut.lastIndex(of: " ").map { String(cut[..<$0]) } ?? String(cut)) + "…"
    }
}
