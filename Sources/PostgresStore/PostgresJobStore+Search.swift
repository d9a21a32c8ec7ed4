import Foundation
import PostgresNIO
import Store

/// `recap search` on the shared store: by words, over the texts workers put in `search_entries` (see
/// ``replaceSearchEntries(_:path:entries:media:)``), with the SQLite store's semantics: every word must match,
/// `word*` matches a prefix, English stems ("plant" finds "plants"), no stop words, the same filters, best
/// first, and the same hits (``HybridHit``, matched words in `[` `]`). Not by meaning: workers on a shared
/// store make no vectors.
extension PostgresJobStore: WordSearching {
    public func wordSearch(_ query: String, filters: SearchFilters, limit: Int) async throws -> [HybridHit] {
        try await hybridSearch(query, vector: nil, index: nil, filters: filters, limit: limit, minSimilarity: 0, depth: limit)
    }

    /// Word matches, best first, keyed by entry id.
    func wordMatches(_ query: String, filters: SearchFilters, limit: Int) async throws -> [(Int64, HybridHit)] {
        guard let pattern = Self.tsQuery(query), limit > 0 else { return [] }
        var binds = PostgresBindings()
        binds.append(pattern)
        binds.append(Self.headlineOptions)
        let filtered = Self.filterSQL(filters, into: &binds)
        binds.append(Int64(limit))
        // 'recap_words' is the text search configuration of `search_entries.words` (migration 5): the query and
        // the snippets must stem as the index did. Ranked first, then snippets for the hits kept only (ts_headline
        // parses the whole text). ts_rank's normalization 1 divides by the log of the text's length, as BM25
        // favours the shorter text.
        let rows = try await self.query(PostgresQuery(unsafeSQL: """
            WITH q AS (SELECT to_tsquery('recap_words', $1::text) AS q)
            SELECT hit.id, hit.job_id, hit.path, hit.kind, hit.start_s, hit.end_s, hit.speaker,
              ts_headline('recap_words', hit.text, q.q, $2::text) AS marked
            FROM (
              SELECT e.id, e.job_id, e.path, e.kind, e.start_s, e.end_s, e.speaker, e.text, ts_rank(e.words, q.q, 1) AS rank
              FROM search_entries e CROSS JOIN q LEFT JOIN search_media m ON m.job_id = e.job_id
              WHERE e.words @@ q.q AND \(filtered)
              ORDER BY rank DESC, e.id LIMIT $\(binds.count)
            ) hit CROSS JOIN q
            ORDER BY hit.rank DESC, hit.id
            """, binds: binds))
        return try rows.map { row in
            let r = row.makeRandomAccess()
            return (try r["id"].decode(Int64.self), HybridHit(
                jobID: try r["job_id"].decode(Int64.self), path: try r["path"].decode(String.self),
                kind: SearchKind(rawValue: try r["kind"].decode(String.self)),
                start: try r["start_s"].decode(Double?.self), end: try r["end_s"].decode(Double?.self),
                speaker: try r["speaker"].decode(String?.self),
                snippet: Self.snippet(marked: try r["marked"].decode(String.self)), score: 0))
        }
    }

    /// The ids of every entry `filters` let through (what a meaning match must be one of); nil without filters.
    func allowedEntries(_ filters: SearchFilters) async throws -> Set<Int64>? {
        guard filters != SearchFilters() else { return nil }
        var binds = PostgresBindings()
        let filtered = Self.filterSQL(filters, into: &binds)
        let rows = try await query(PostgresQuery(unsafeSQL: """
            SELECT e.id FROM search_entries e LEFT JOIN search_media m ON m.job_id = e.job_id WHERE \(filtered)
            """, binds: binds))
        return Set(try rows.map { try $0.decode(Int64.self) })
    }

    /// `filters` as one SQL condition over `e` (search_entries) and `m` (search_media, left-joined), its
    /// values appended to `binds` as parameters (`$n` after those already there): never spliced into the SQL.
    static func filterSQL(_ f: SearchFilters, into binds: inout PostgresBindings) -> String {
        var clauses = ["true"]
        func bind<V: PostgresDynamicTypeEncodable>(_ value: V, _ clause: (String) -> String) {
            binds.append(value)
            clauses.append(clause("$\(binds.count)"))
        }
        if let folder = f.folder.map({ $0.hasSuffix("/") ? $0 : $0 + "/" }) { bind(folder) { "left(e.path, length(\($0)::text)) = \($0)::text" } }
        if let v = f.since { bind(v) { "m.media_date >= \($0)::float8" } }
        if let v = f.until { bind(v) { "m.media_date < \($0)::float8" } }
        if let v = f.minDuration { bind(v) { "m.duration >= \($0)::float8" } }
        if let v = f.maxDuration { bind(v) { "m.duration <= \($0)::float8" } }
        if let v = f.language { bind(v) { "lower(m.language) = lower(\($0)::text)" } }
        if let v = f.speaker { bind(v) { "lower(e.speaker) = lower(\($0)::text)" } }
        if let kinds = f.kinds, !kinds.isEmpty { bind(kinds.map(\.rawValue).sorted()) { "e.kind = ANY(\($0)::text[])" } }
        return "(" + clauses.joined(separator: " AND ") + ")"
    }

    /// The query's words as `to_tsquery` text, or nil when no word is left. Each word becomes one quoted operand
    /// (`'budget'`; `'budg':*` for `budg*`), ANDed with the others. Quote, backslash and every other character
    /// tsquery reads as an operator become spaces first, so user text can never be syntax: `a:b` is the phrase
    /// `a b`, as SQLite's FTS5 reads it. `*` and `"` are dropped, and words without a letter or digit skipped,
    /// as ``JobStore`` does. The text goes to the server as a bind parameter, never into the SQL.
    static func tsQuery(_ query: String) -> String? {
        let operands = query.split(whereSeparator: { $0.isWhitespace }).compactMap { raw -> String? in
            let prefix = raw.hasSuffix("*")
            let word = String(raw.filter { $0 != "*" && $0 != "\"" }.map { syntax.contains($0) ? " " : $0 })
                .trimmingCharacters(in: .whitespaces)
            guard word.contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
            return "'\(word)'" + (prefix ? ":*" : "")
        }
        return operands.isEmpty ? nil : operands.joined(separator: " & ")
    }

    /// What `to_tsquery` reads as syntax (and a quoted operand's escape), besides `*` and `"`.
    static let syntax: Set<Character> = ["'", "\\", "&", "|", "!", "(", ")", ":", "<", ">"]

    /// Every match marked (the whole text comes back: the window is cut here, as SQLite's snippet cuts it), with
    /// control characters no transcript holds, so brackets in the text itself are not taken for marks.
    static let headlineOptions = "StartSel=\u{2}, StopSel=\u{3}, HighlightAll=true"

    /// The shape of the SQLite store's snippets (FTS5 `snippet(…, '[', ']', '…', 24)`) from a text whose matches
    /// ts_headline marked: at most `words` words of the text as it is, placed to hold the most matches (a window
    /// centred on one of them, or flush with the text's start or end), `…` where the text goes on, matches in `[` `]`.
    static func snippet(marked: String, words: Int = 24) -> String {
        var spans: [Range<String.Index>] = []
        var start: String.Index?
        for i in marked.indices {
            if marked[i].isWhitespace {
                if let s = start { spans.append(s..<i); start = nil }
            } else if start == nil {
                start = i
            }
        }
        if let s = start { spans.append(s..<marked.endIndex) }
        let bracketed = { (s: Substring) in s.replacingOccurrences(of: "\u{2}", with: "[").replacingOccurrences(of: "\u{3}", with: "]") }
        guard spans.count > words else { return bracketed(marked[...]) }

        let matched = spans.indices.filter { marked[spans[$0]].contains("\u{2}") }
        let context = (words - 1) / 2  // centred, as FTS5 places a lone match
        var from = 0, best = -1
        for m in matched {
            let s = min(max(0, m - context), spans.count - words)
            let count = matched.filter { $0 >= s && $0 < s + words }.count
            if count > best { (from, best) = (s, count) }
        }
        let to = from + words
        return (from > 0 ? "…" : "") + bracketed(marked[spans[from].lowerBound..<spans[to - 1].upperBound])
            + (to < spans.count ? "…" : "")
    }
}
