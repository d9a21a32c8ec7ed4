import Foundation
import GRDB

/// What a searchable text is.
public struct SearchKind: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public static let transcript: SearchKind = "transcript"
    public static let scene: SearchKind = "scene"
    public static let ocr: SearchKind = "ocr"
    public static let summary: SearchKind = "summary"
    public static let keywords: SearchKind = "keywords"

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// One searchable text of a job: a transcript segment, a scene description, OCR text, a summary.
public struct SearchEntry: Sendable, Hashable, Codable {
    public var kind: SearchKind
    /// Seconds into the media (nil for whole-file texts such as a summary).
    public var start: Double?
    public var end: Double?
    public var text: String
    /// Who spoke, for transcript passages whose speaker is known.
    public var speaker: String?

    public init(kind: SearchKind, start: Double? = nil, end: Double? = nil, text: String, speaker: String? = nil) {
        self.kind = kind
        self.start = start
        self.end = end
        self.text = text
        self.speaker = speaker
    }
}

/// What search can filter a job's hits on: facts about its media, stored beside its entries.
public struct SearchMedia: Sendable, Hashable, Codable {
    public var duration: Double?
    /// The spoken language ("en"), when a transcript says.
    public var language: String?
    /// When the media was made (its creation-time tag, else the file's modification time), Unix seconds.
    public var date: Double?

    public init(duration: Double? = nil, language: String? = nil, date: Double? = nil) {
        self.duration = duration
        self.language = language
        self.date = date
    }
}

/// How a text is named in the embeddings table.
enum SearchText {
    static func hash(_ text: String) -> String { Digest.sha256Hex(Data(text.utf8)) }
}

/// A search result: where to jump to, and the matching words in context.
public struct SearchHit: Sendable, Hashable, Codable {
    public var jobID: Int64
    public var path: String
    public var kind: SearchKind
    public var start: Double?
    public var end: Double?
    /// The match in context, matched terms wrapped in `[` `]`.
    public var snippet: String
    /// BM25 rank: lower is better.
    public var rank: Double
}

extension JobStore {
    /// Replaces all of a job's search entries with `entries`, in one transaction: running it twice
    /// leaves exactly one copy. Guarded by the lease, like every other result write.
    public func replaceSearchEntries(_ lease: Lease, path: String, entries: [SearchEntry], media: SearchMedia = .init()) throws {
        try write { db in
            try requireLease(db, lease)
            try replaceSearchEntries(db, jobID: lease.jobID, path: path, entries: entries, media: media)
        }
    }

    /// The same without a lease, for re-indexing finished jobs.
    public func replaceSearchEntries(jobID: Int64, path: String, entries: [SearchEntry], media: SearchMedia = .init()) throws {
        try write { db in try replaceSearchEntries(db, jobID: jobID, path: path, entries: entries, media: media) }
    }

    private func replaceSearchEntries(_ db: Database, jobID: Int64, path: String, entries: [SearchEntry], media: SearchMedia) throws {
        try db.execute(sql: "DELETE FROM searchEntries WHERE jobId = ?", arguments: [jobID])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO searchEntries (jobId, path, kind, start, end, text, speaker, textHash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for e in entries where !e.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try insert.execute(arguments: [jobID, path, e.kind.rawValue, e.start, e.end, e.text, e.speaker, SearchText.hash(e.text)])
        }
        try db.execute(sql: "INSERT OR REPLACE INTO searchMedia (jobId, duration, language, mediaDate) VALUES (?, ?, ?, ?)",
                       arguments: [jobID, media.duration, media.language, media.date])
    }

    /// Full-text search (FTS5, BM25 ranking, Porter stemming) over everything indexed. The query is
    /// plain words, all of which must match (a trailing `*` on a word matches prefixes); FTS5
    /// operators in it are treated as words, so no user input can make the query fail.
    public func search(_ query: String, limit: Int = 20, kinds: Set<SearchKind>? = nil) throws -> [SearchHit] {
        guard let pattern = Self.ftsPattern(query) else { return [] }
        return try read { db in
            var sql = """
                SELECT e.jobId, e.path, e.kind, e.start, e.end,
                  snippet(searchIndex, 0, '[', ']', '…', 16) AS snippet, searchIndex.rank AS rank
                FROM searchIndex JOIN searchEntries e ON e.id = searchIndex.rowid
                WHERE searchIndex MATCH ?
                """
            var args: [any DatabaseValueConvertible] = [pattern]
            if let kinds, !kinds.isEmpty {
                sql += " AND e.kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))"
                args += kinds.map(\.rawValue)
            }
            sql += " ORDER BY rank LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
                SearchHit(
                    jobID: row["jobId"], path: row["path"], kind: SearchKind(rawValue: row["kind"]),
                    start: row["start"], end: row["end"], snippet: row["snippet"], rank: row["rank"])
            }
        }
    }

    /// Words of `query` as quoted FTS5 strings ANDed together; `word*` stays a prefix query.
    static func ftsPattern(_ query: String) -> String? {
        let words = query.split(whereSeparator: { $0.isWhitespace }).compactMap { raw -> String? in
            let prefix = raw.hasSuffix("*")
            let word = String(raw).replacingOccurrences(of: "*", with: "").replacingOccurrences(of: "\"", with: "")
            guard word.contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
            return "\"\(word)\"" + (prefix ? "*" : "")
        }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }
}
