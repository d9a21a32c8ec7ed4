import ArgumentParser
import Foundation
import Store

/// `recap search`: full-text search over everything `recap run` indexed.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search transcripts, scene descriptions, on-screen text and summaries.",
        discussion: """
            All words must match (a trailing * matches a prefix: budg*). Each hit names the file and the time to \
            jump to. Searches the store of `recap run` (--store, else $RECAP_STORE, else OUT/.recap/store.sqlite).

            Examples:
              recap search "harbour budget" --out ~/recaps
              recap search rivers --json --store /srv/index/.recap/store.sqlite
            """
    )

    @Argument(help: "Words to find.")
    var query: [String]

    @Option(name: .long, help: "Job store file.")
    var store: String?

    @Option(name: .long, help: "The output folder of `recap run`, to find its store.")
    var out: String?

    @Option(name: .long, help: "Only this kind of text: transcript, scene, ocr, summary.")
    var kind: [String] = []

    @Option(name: .long, help: "Most hits to show.")
    var limit: Int = 20

    @Flag(name: .long, help: "Print hits as JSON.")
    var json = false

    func run() async throws {
        let path = StoreLocation.resolve(store: store, outputFolder: out)
        let db: JobStore
        do { db = try JobStore(url: path, options: .init(create: false)) } catch {
            FileHandle.standardError.write(Data("recap search: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let hits = try db.search(query.joined(separator: " "), limit: max(1, limit),
                                 kinds: kind.isEmpty ? nil : Set(kind.map { SearchKind(rawValue: $0) }))
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(hits), as: UTF8.self))
            return
        }
        if hits.isEmpty {
            FileHandle.standardError.write(Data("no matches for \"\(query.joined(separator: " "))\" in \(path.path)\n".utf8))
            return
        }
        for h in hits {
            let at = h.start.map { " @ \(Self.clock($0))" } ?? ""
            print("\(h.path)\(at)  [\(h.kind.rawValue)]  \(h.snippet.replacingOccurrences(of: "\n", with: " "))")
        }
    }

    static func clock(_ t: Double) -> String {
        let s = Int(t)
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
