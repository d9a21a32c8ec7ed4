import Foundation
import PostgresStore
import Store
import Testing
import ThrowawayPostgres

/// `recap search` by words, the same on every ``Backend``: the same texts, put in as the pipeline's runner puts
/// them (``PipelineStore/replaceSearchEntries(_:path:entries:media:)`` under a claim's lease), are found by the
/// same queries and filters, with hits of the same shape.
@Suite struct SearchContract {
    @Test(arguments: Backend.allCases)
    func everyWordMustMatchAndAStarMatchesAPrefix(_ backend: Backend) async throws {
        try await withIndex(backend) { s async throws in
            #expect(try await found(s, "photosynthesis") == [lecture(.transcript), lecture(.summary)])
            #expect(try await found(s, "PHOTOSYNTHESIS") == [lecture(.transcript), lecture(.summary)])
            #expect(try await found(s, "plant") == [lecture(.transcript)])  // English stems: plants ~ plant
            #expect(try await found(s, "harbour budget") == [lecture(.transcript, 20), lecture(.summary), meeting(.transcript), meeting(.keywords)])
            #expect(try await found(s, "harbour birthday").isEmpty)  // all words, not any
            #expect(try await found(s, "budg*") == [lecture(.transcript, 20), lecture(.summary), party(.transcript), meeting(.transcript), meeting(.keywords)])
            #expect(try await found(s, "birth*") == [party(.transcript), party(.summary)])
            #expect(try await found(s, "chloro*") == [lecture(.ocr)])
            #expect(try await found(s, "chloro").isEmpty)  // without the star, a whole word
            #expect(try await found(s, "the end") == [meeting(.summary)])  // no stop words: "the" counts
            #expect(try await found(s, "volcano").isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func filtersNarrowTheHits(_ backend: Backend) async throws {
        try await withIndex(backend) { s async throws in
            let budget = { (f: SearchFilters) in try await found(s, "budget", f) }
            #expect(try await budget(.init(kinds: [.summary, .keywords])) == [lecture(.summary), meeting(.keywords)])
            #expect(try await budget(.init(folder: "/media/talks")) == [lecture(.transcript, 20), lecture(.summary), meeting(.transcript), meeting(.keywords)])
            #expect(try await budget(.init(folder: "/media/tal")).isEmpty)  // a folder, not a prefix of a name
            #expect(try await budget(.init(since: day("2024-01-01"))) == [lecture(.transcript, 20), lecture(.summary), meeting(.transcript), meeting(.keywords)])
            #expect(try await budget(.init(until: day("2024-01-01"))) == [party(.transcript)])
            #expect(try await budget(.init(since: day("2024-05-01"), until: day("2024-05-02"))) == [lecture(.transcript, 20), lecture(.summary)])
            #expect(try await budget(.init(minDuration: 1000)) == [meeting(.transcript), meeting(.keywords)])
            #expect(try await budget(.init(maxDuration: 600)) == [lecture(.transcript, 20), lecture(.summary), party(.transcript)])
            #expect(try await budget(.init(language: "FR")) == [party(.transcript)])
            #expect(try await budget(.init(speaker: "speaker 2")) == [lecture(.transcript, 20)])
            #expect(try await budget(.init(folder: "/media/talks", kinds: [.transcript])) == [lecture(.transcript, 20), meeting(.transcript)])
        }
    }

    @Test(arguments: Backend.allCases)
    func operatorsInAQueryAreWordsAndNeverFail(_ backend: Backend) async throws {
        try await withIndex(backend) { s async throws in
            // tsquery's and FTS5's operators are taken out; the letters left are words that must all match.
            #expect(try await found(s, "a & b | !c :*") == [meeting(.transcript)])
            #expect(try await found(s, "!budget") == found(s, "budget"))
            #expect(try await found(s, "(harbour) 'budget'") == found(s, "harbour budget"))
            #expect(try await found(s, "budget:A").isEmpty)  // "budget a": a phrase, as FTS5 reads it; no text has it
            for query in ["\"unbalanced", "AND", "(near", "a:b", "NOT", "*", "", "   ", "end)", "it's", "\\", "'", "''",
                          "<->", "a <2> b", "budget:*", "&", "|", "!", "'budget' & 'x", "budget\\' | x", String(repeating: "x", count: 3000)] {
                _ = try await s.wordSearch(query, filters: .init(), limit: 20)
            }
            #expect(try await found(s, "").isEmpty)
            #expect(try await found(s, "* & !").isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func hitsCarryTheEntryAndRankBestFirst(_ backend: Backend) async throws {
        try await withIndex(backend) { s async throws in
            let hits = try await s.wordSearch("photosynthesis", filters: .init(), limit: 20)
            let segment = try #require(hits.first { $0.kind == .transcript })
            #expect(segment.path == "/media/talks/lecture.mp4")
            #expect(segment.start == 12.5 && segment.end == 17 && segment.speaker == "Speaker 1")
            #expect(segment.snippet == "Today we look at how plants use [photosynthesis] to make sugar.")
            #expect(hits.map(\.wordRank) == [1, 2] && hits.allSatisfy { $0.meaningRank == nil && $0.similarity == nil })
            #expect(hits[0].score > hits[1].score)
            // Shorter texts with the word rank first (BM25 on SQLite; ts_rank divided by the log of the length here).
            let budget = try await s.wordSearch("harbour", filters: .init(), limit: 20)
            #expect(budget.first.map { FileKind($0) } == meeting(.keywords), "\(budget.map { FileKind($0) })")
            #expect(try await s.wordSearch("budget", filters: .init(), limit: 2).count == 2)
        }
    }

    /// Side by side: both stores give hits with the same fields, snippets included, for every query here.
    /// Search by meaning, the same on both stores: one vector per distinct text (filled until none is missing,
    /// as `recap run` does), loaded for a model, searched with the filters, fused with words.
    @Test(arguments: Backend.allCases)
    func meaningMatchesHonourTheFiltersOnBothStores(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 30) { q, _ in
            let store = try #require(q as? any PipelineStore)
            try await index(store)
            // A stand-in embedding: one axis per topic, so what is near what is known.
            func embed(_ text: String) -> [Float] {
                let t = text.lowercased()
                let topics = [["harbour", "budget"], ["birthday", "cake"], ["photosynthesis", "leaf", "plants", "chlorophyll"]]
                return topics.map { words in words.contains { t.contains($0) } ? 1 : 0 } + [0.05]
            }
            #expect(try await store.vectorIndex(model: "topics") == nil)
            var rounds = 0
            while case let pending = try await store.textsNeedingVectors(model: "topics", limit: 4), !pending.isEmpty {
                try await store.saveVectors(model: "topics", pending.map { ($0.hash, embed($0.text)) })
                rounds += 1
            }
            let coverage = try await store.vectorCoverage(model: "topics")
            #expect(coverage.embedded == coverage.total && coverage.total >= 10 && rounds >= 3, "\(coverage), \(rounds) rounds")
            #expect(try await store.pruneVectors() == 0)  // every vector's text is indexed
            let index = try #require(try await store.vectorIndex(model: "topics"))
            #expect(try await store.vectorIndex(model: "another") == nil)

            let biology: [Float] = [0, 0, 1, 0]
            func meaning(_ f: SearchFilters) async throws -> Set<FileKind> {
                let hits = try await store.hybridSearch("xyzzy", vector: biology, index: index, filters: f, limit: 20, minSimilarity: 0.5, depth: 100)
                #expect(hits.allSatisfy { $0.wordRank == nil && $0.meaningRank != nil && ($0.similarity ?? 0) >= 0.5 })
                return Set(hits.map(FileKind.init))
            }
            #expect(try await meaning(.init()) == [lecture(.transcript), lecture(.scene), lecture(.ocr), lecture(.summary)])
            #expect(try await meaning(.init(kinds: [.ocr])) == [lecture(.ocr)])
            #expect(try await meaning(.init(folder: "/media/party")).isEmpty)
            // Found both ways first: "photosynthesis" by words and by meaning.
            let both = try await store.hybridSearch("photosynthesis", vector: biology, index: index, filters: .init(), limit: 20,
                                                    minSimilarity: 0.5, depth: 100)
            #expect(both.first.map { $0.wordRank != nil && $0.meaningRank != nil } == true, "\(both)")
        }
    }

    @Test func bothStoresGiveTheSameHits() async throws {
        let sqlite = try await makeHarness(.sqlite, lease: 30, retry: fastRetry)
        let postgres = try await makeHarness(.postgres, lease: 30, retry: fastRetry)
        do {
            try await compare(sqlite, postgres)
        } catch {
            await sqlite.close(); await postgres.close()
            throw error
        }
        await sqlite.close(); await postgres.close()
    }

    func compare(_ sqlite: Harness, _ postgres: Harness) async throws {
        let a = try #require(sqlite.queue as? any PipelineStore & WordSearching)
        let b = try #require(postgres.queue as? any PipelineStore & WordSearching)
        try await index(a)
        try await index(b)
        for query in ["photosynthesis", "plants", "budg*", "birthday cake", "a & b | !c :*", "keeper", "ferry", "gull", "3.14", "e-mail"] {
            let x = try await a.wordSearch(query, filters: .init(), limit: 20), y = try await b.wordSearch(query, filters: .init(), limit: 20)
            #expect(!x.isEmpty, "\(query) finds nothing on SQLite")
            // Within one word, FTS5 marks a phrase's tokens as one ("[e-mail]"), ts_headline each ("[e]-[mail]").
            let snippets = query != "e-mail"
            #expect(Set(x.map { Shape($0, snippet: snippets) }) == Set(y.map { Shape($0, snippet: snippets) }), "\(query)")
            #expect(x.map(\.wordRank) == y.map(\.wordRank) && x.map(\.score) == y.map(\.score), "\(query)")
        }
        // A long text is cut around its match, "…" where it goes on (the snippets above were the same on both).
        let long = try #require(try await b.wordSearch("keeper", filters: .init(), limit: 1).first?.snippet)
        #expect(long.hasPrefix("…") && long.hasSuffix("…") && long.contains("[keeper]") && long.split(separator: " ").count == 24, "\(long)")
        let start = try #require(try await b.wordSearch("ferry", filters: .init(), limit: 1).first?.snippet)
        #expect(start.hasPrefix("A [ferry], s1 s2") && start.hasSuffix("…"), "\(start)")
        let end = try #require(try await b.wordSearch("gull", filters: .init(), limit: 1).first?.snippet)
        #expect(end.hasPrefix("…") && end.hasSuffix("and a [gull]."), "\(end)")
    }

    /// A shared store indexed before migration 5 (words without stems, 'simple') is re-indexed by it on open.
    @Test func aStoreIndexedWithoutStemsGetsThemOnOpen() async throws {
        let cluster = try TestCluster.shared.get()
        let url = try cluster.makeDatabase()
        let store = try await PostgresJobStore.open(url: url, options: .init(leaseDuration: 30))
        try await index(store)
        await store.close()
        // Back to what migration 3 left: its column and index, no configuration of ours, migration 5 not applied.
        try TestCluster.run([
            "\(TestCluster.binaries)/psql", "-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", "recap", "-d", String(url.split(separator: "/").last!),
            "-v", "ON_ERROR_STOP=1", "-c", """
            BEGIN;
            ALTER TABLE search_entries DROP COLUMN words;
            ALTER TABLE search_entries ADD COLUMN words tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED;
            CREATE INDEX search_entries_words ON search_entries USING gin (words);
            DROP TEXT SEARCH CONFIGURATION recap_words; DROP TEXT SEARCH DICTIONARY recap_stem;
            DELETE FROM recap_migrations WHERE id = 5;
            COMMIT;
            """,
        ], asServer: false)
        let again = try await PostgresJobStore.open(url: url)
        #expect(try await found(again, "plant") == [lecture(.transcript)])
        #expect(try await found(again, "budg*").count == 5)
        await again.close()
    }

    // MARK: - The index

    /// A hit's file (by name) and kind, and its start where a file has two of a kind.
    struct FileKind: Hashable, CustomStringConvertible {
        var file: String, kind: SearchKind, start: Double?
        init(_ file: String, _ kind: SearchKind, _ start: Double? = nil) { (self.file, self.kind, self.start) = (file, kind, start) }
        init(_ hit: HybridHit) {
            let name = (hit.path as NSString).lastPathComponent
            self.init(name, hit.kind, name == "lecture.mp4" && hit.kind == .transcript && hit.start != 12.5 ? hit.start : nil)
        }
        var description: String { "\(file) \(kind.rawValue)" + (start.map { "@\($0)" } ?? "") }
    }
    func lecture(_ kind: SearchKind, _ start: Double? = nil) -> FileKind { FileKind("lecture.mp4", kind, start) }
    func party(_ kind: SearchKind) -> FileKind { FileKind("party.mp4", kind) }
    func meeting(_ kind: SearchKind) -> FileKind { FileKind("budget-meeting.m4a", kind) }

    /// What both stores must agree on: everything of a hit but its job id (each store numbers its own jobs).
    struct Shape: Hashable {
        var path: String, kind: SearchKind, start: Double?, end: Double?, speaker: String?, snippet: String?
        init(_ h: HybridHit, snippet: Bool) {
            (path, kind, start, end, speaker) = (h.path, h.kind, h.start, h.end, h.speaker)
            self.snippet = snippet ? h.snippet : nil
        }
    }

    func found(_ s: any WordSearching, _ query: String, _ filters: SearchFilters = .init()) async throws -> Set<FileKind> {
        let hits = try await s.wordSearch(query, filters: filters, limit: 50)
        return Set(hits.map(FileKind.init))
    }

    func day(_ s: String) -> Double { ISO8601DateFormatter().date(from: s + "T00:00:00Z")!.timeIntervalSince1970 }

    struct File {
        var path: String
        var media: SearchMedia
        var entries: [SearchEntry]
    }

    var files: [File] {
        [
            File(path: "/media/talks/lecture.mp4", media: SearchMedia(duration: 600, language: "en", date: day("2024-05-01") + 36000), entries: [
                SearchEntry(kind: .transcript, start: 12.5, end: 17, text: "Today we look at how plants use photosynthesis to make sugar.", speaker: "Speaker 1"),
                SearchEntry(kind: .transcript, start: 20, end: 25, text: "The harbour budget grew by a third.", speaker: "Speaker 2"),
                SearchEntry(kind: .scene, start: 30, end: 45, text: "A chalkboard with a diagram of a leaf."),
                SearchEntry(kind: .ocr, start: 31, text: "CHLOROPHYLL"),
                SearchEntry(kind: .summary, text: "An introductory biology lecture about photosynthesis, and the harbour's budget."),
                SearchEntry(kind: .transcript, start: 50, end: 51, text: "   "),  // blank: not indexed
            ]),
            File(path: "/media/party/party.mp4", media: SearchMedia(duration: 60, language: "fr", date: day("2023-01-10")), entries: [
                SearchEntry(kind: .transcript, start: 3, end: 5, text: "Happy birthday! Cake for everyone, and the budgets are gone.", speaker: "Speaker 1"),
                SearchEntry(kind: .summary, text: "A birthday party with cake; e-mail invitations went out at 3.14 pm."),
                SearchEntry(kind: .scene, start: 10, end: 40, text: "A ferry, " + (1...40).map { "s\($0)" }.joined(separator: " ") + " and a gull."),
            ]),
            File(path: "/media/talks/budget-meeting.m4a", media: SearchMedia(duration: 1800, language: "en", date: day("2024-06-01")), entries: [
                SearchEntry(kind: .transcript, start: 0, end: 10, text: "Budgeting for the new harbour: a & b | !c :* are not operators here."),
                SearchEntry(kind: .keywords, text: "budget, harbour"),
                SearchEntry(kind: .summary, text: (1...30).map { "w\($0)" }.joined(separator: " ") + " the lighthouse keeper retired at the end "
                    + (31...60).map { "w\($0)" }.joined(separator: " ")),
            ]),
        ]
    }

    /// Puts every file's entries in as the pipeline's runner does: a job per file, claimed, its texts replaced
    /// under the lease (twice: replacing leaves one copy), completed.
    func index(_ store: any PipelineStore) async throws {
        let files = self.files
        _ = try await store.enqueue(files.enumerated().map { EnqueueRequest(fingerprint: "fp-\($0.offset)", path: $0.element.path, identity: identity) })
        for _ in files {
            let claimed = try #require(try await store.claimNext("indexer"))
            let file = try #require(files.first { $0.path == claimed.job.path })
            for _ in 0..<2 { try await store.replaceSearchEntries(claimed.lease, path: file.path, entries: file.entries, media: file.media) }
            try await store.finish(claimed.lease)
        }
    }

    func withIndex(_ backend: Backend, _ body: (any WordSearching) async throws -> Void) async throws {
        try await withQueue(backend, lease: 30) { q, _ in
            let store = try #require(q as? any PipelineStore & WordSearching)
            try await index(store)
            try await body(store)
        }
    }
}
