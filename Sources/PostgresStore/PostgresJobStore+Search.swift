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
        guard let pattern = Self.tsQuery(query), limit > 0 else { return [] }
        let folder = filters.folder.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
        let kinds = filters.kinds.flatMap { $0.isEmpty ? nil : $0.map(\.rawValue).sorted() }
        // 'recap_words' is the text search configuration of `search_entries.words` (migration 5): the query and
        // the snippets must stem as the index did. Ranked first, then snippets for the hits kept only (ts_headline
        // parses the whole text). ts_rank's normalization 1 divides by the log of the text's length, as BM25
        // favours the shorter text.
        let rows = try await self.query("""
            WITH q AS (SELECT to_tsquery('recap_words', \(pattern)::text) AS q)
            SELECT hit.id, hit.job_id, hit.path, hit.kind, hit.start_s, hit.end_s, hit.speaker,
              ts_headline('recap_words', hit.text, q.q, \(Self.headlineOptions)::text) AS marked
            FROM (
              SELECT e.id, e.job_id, e.path, e.kind, e.start_s, e.end_s, e.speaker, e.text, ts_rank(e.words, q.q, 1) AS rank
              FROM search_entries e CROSS JOIN q LEFT JOIN search_media m ON m.job_id = e.job_id
              WHERE e.words @@ q.q
                AND (\(folder)::text IS NULL OR left(e.path, length(\(folder)::text)) = \(folder)::text)
                AND (\(filters.since)::float8 IS NULL OR m.media_date >= \(filters.since)::float8)
                AND (\(filters.until)::float8 IS NULL OR m.media_date < \(filters.until)::float8)
                AND (\(filters.minDuration)::float8 IS NULL OR m.duration >= \(filters.minDuration)::float8)
                AND (\(filters.maxDuration)::float8 IS NULL OR m.duration <= \(filters.maxDuration)::float8)
                AND (\(filters.language)::text IS NULL OR lower(m.language) = lower(\(filters.language)::text))
                AND (\(filters.speaker)::text IS NULL OR lower(e.speaker) = lower(\(filters.speaker)::text))
                AND (\(kinds)::text[] IS NULL OR e.kind = ANY(\(kinds)::text[]))
              ORDER BY rank DESC, e.id LIMIT \(Int64(limit))
            ) hit CROSS JOIN q
            ORDER BY hit.rank DESC, hit.id
            """)
        return try rows.enumerated().map { i, row in
            let r = row.makeRandomAccess()
            return HybridHit(
                jobID: try r["job_id"].decode(Int64.self), path: try r["path"].decode(String.self),
                kind: SearchKind(rawValue: try r["kind"].decode(String.self)),
                start: try r["start_s"].decode(Double?.self), end: try r["end_s"].decode(Double?.self),
                speaker: try r["speaker"].decode(String?.self),
                snippet: Self.snippet(marked: try r["marked"].decode(String.self)),
                score: HybridHit.fusionScore(rank: i + 1), wordRank: i + 1)
        }
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
