import ArgumentParser
import Engine
import Foundation
import PostgresStore
import Store

/// `recap search`: words and meaning over everything `recap run` indexed.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search transcripts, scene descriptions, on-screen text and summaries, by words and by meaning.",
        discussion: """
            Two searches are fused: by words (all must match; a trailing * matches a prefix: budg*) and by \
            meaning (the query and every indexed passage as vectors of the embedding model, so "an ancient \
            wonder destroyed by earthquakes" finds a talk about the Pharos of Alexandria). A passage found both \
            ways ranks first. Meaning matches below --min-similarity are dropped, so an unrelated query comes \
            back empty. Each hit names the file and the time to jump to.

            Searches the store of `recap run` (--store, else $RECAP_STORE, else OUT/.recap/store.sqlite). \
            Without the embedding model (`recap models install all-minilm-l6-v2`) or with --words-only, only \
            words are searched.

            A shared PostgreSQL store (--store postgres://user@host/db, or $RECAP_STORE) is searched the same \
            way, with the same rules, filters and output (--json has the same fields). Workers make no vectors: \
            a `recap run` on any host embeds what they indexed; until then its texts are found by words. \
            (`recap serve` and `recap export` read SQLite stores only.)

            Examples:
              recap search "harbour budget" --out ~/recaps
              recap search "a talk about ancient lighthouses" --since 2024-01-01 --max-duration 900
              recap search rivers --folder ~/videos/2023 --speaker "Speaker 2" --json
            """
    )

    @Argument(help: "What to find: words, or a description of it.")
    var query: [String]

    @Option(name: .long, help: ArgumentHelp("The job store: a SQLite file, or a postgres:// URL.", valueName: "file|url"))
    var store: String?

    @Option(name: .long, help: "The output folder of `recap run`, to find its store.")
    var out: String?

    @Option(name: .long, help: "Only this kind of text: transcript, scene, ocr, summary (repeatable).")
    var kind: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only media under this folder.", valueName: "dir"))
    var folder: String?

    @Option(name: .long, help: ArgumentHelp("Only media made on or after this day (its creation-time tag, else the file's date).", valueName: "YYYY-MM-DD"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only media made before this day.", valueName: "YYYY-MM-DD"))
    var until: String?

    @Option(name: .customLong("min-duration"), help: ArgumentHelp("Only media at least this many seconds long.", valueName: "s"))
    var minDuration: Double?

    @Option(name: .customLong("max-duration"), help: ArgumentHelp("Only media at most this many seconds long.", valueName: "s"))
    var maxDuration: Double?

    @Option(name: .long, help: ArgumentHelp("Only media in this spoken language (a code such as en).", valueName: "code"))
    var language: String?

    @Option(name: .long, help: ArgumentHelp("Only passages of this speaker, as the transcript names them (\"Speaker 1\").", valueName: "name"))
    var speaker: String?

    @Option(name: .customLong("min-similarity"), help: ArgumentHelp("Meaning matches need at least this cosine similarity (0…1).", valueName: "x"))
    var minSimilarity: Double = SearchDefaults.minSimilarity

    @Flag(name: .customLong("words-only"), help: "Search by words only (no embedding model is started).")
    var wordsOnly = false

    @Option(name: .long, help: "Most hits to show.")
    var limit: Int = 20

    @Flag(name: .long, help: "Print hits as JSON.")
    var json = false

    @OptionGroup(title: "Embeddings")
    var embedding: EmbeddingOptions

    func validate() throws {
        guard (0...1).contains(minSimilarity) else { throw ValidationError("--min-similarity must be between 0 and 1") }
        for d in [since, until].compactMap({ $0 }) where SearchDefaults.day(d) == nil {
            throw ValidationError("\(d): give a day as YYYY-MM-DD")
        }
    }

    func run() async throws {
        let text = query.joined(separator: " ")
        let filters = SearchFilters(
            folder: folder.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).standardizedFileURL.path },
            since: since.flatMap(SearchDefaults.day), until: until.flatMap(SearchDefaults.day),
            minDuration: minDuration, maxDuration: maxDuration, language: language, speaker: speaker,
            kinds: kind.isEmpty ? nil : Set(kind.map { SearchKind(rawValue: $0) }))
        let (hits, location): ([HybridHit], String)
        switch StoreChoice.resolve(store: store, outputFolder: out) {
        case .sqlite(let url): (hits, location) = try await search(url, text, filters)
        case .postgres(let url): (hits, location) = try await search(postgres: url, text, filters)
        }

        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(hits), as: UTF8.self))
            return
        }
        if hits.isEmpty {
            FileHandle.standardError.write(Data("no matches for \"\(text)\" in \(location)\n".utf8))
            return
        }
        for h in hits {
            let at = h.start.map { " @ \(Self.clock($0))" } ?? ""
            let how = [h.wordRank.map { _ in "words" }, h.similarity.map { String(format: "meaning %.2f", $0) }].compactMap { $0 }
            print("\(h.path)\(at)  [\(h.kind.rawValue); \(how.joined(separator: ", "))]  \(h.snippet.replacingOccurrences(of: "\n", with: " "))")
        }
    }

    /// Words and meaning, on the SQLite store of `recap run`.
    private func search(_ url: URL, _ text: String, _ filters: SearchFilters) async throws -> ([HybridHit], String) {
        let db: JobStore
        do { db = try JobStore(url: url, options: .init(create: false)) } catch { throw Self.fail(error) }
        return (try await search(db, text, filters), db.path)
    }

    /// Words and meaning, on a shared PostgreSQL store (its vectors are made by `recap run`, not by workers).
    private func search(postgres url: String, _ text: String, _ filters: SearchFilters) async throws -> ([HybridHit], String) {
        let db: PostgresJobStore
        do { db = try await StoreChoice.openPostgres(url, connections: 1) } catch { throw Self.fail(error) }
        do {
            let hits = try await search(db, text, filters)
            await db.close()
            return (hits, db.location)
        } catch {
            await db.close()
            throw Self.fail(error)
        }
    }

    private func search(_ db: any VectorStore, _ text: String, _ filters: SearchFilters) async throws -> [HybridHit] {
        var meaning: (vector: [Float], index: VectorIndex)?
        if !wordsOnly {
            do { meaning = try await queryVector(text, db) } catch {
                FileHandle.standardError.write(Data("recap search: searching by words only: \(error)\n".utf8))
            }
        }
        return try await db.hybridSearch(text, vector: meaning?.vector, index: meaning?.index, filters: filters,
                                         limit: max(1, limit), minSimilarity: minSimilarity, depth: 100)
    }

    /// Prints `error` as `recap search: …` and returns the exit code to throw.
    private static func fail(_ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("recap search: \(error)\n".utf8))
        return ExitCode(1)
    }

    /// The query's vector and the store's vectors of the same model; nil when nothing is embedded yet (no
    /// model is started for a store without vectors).
    private func queryVector(_ text: String, _ db: any VectorStore) async throws -> (vector: [Float], index: VectorIndex)? {
        let embedding = try embedding.make()
        guard let index = try await db.vectorIndex(model: embedding.modelID) else {
            await embedding.stop()
            return nil
        }
        do {
            let vector = try await embedding.embedder.embed([text])[0]
            await embedding.stop()
            return (vector, index)
        } catch {
            await embedding.stop()
            throw error
        }
    }

    static func clock(_ t: Double) -> String {
        let s = Int(t)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

enum SearchDefaults {
    /// all-MiniLM-L6-v2 puts unrelated English sentences at about 0 to 0.2 and paraphrases at 0.5 and above.
    static let minSimilarity = 0.3

    /// "2024-05-01" as Unix seconds at 00:00 UTC.
    static func day(_ s: String) -> Double? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.date(from: s)?.timeIntervalSince1970
    }
}
