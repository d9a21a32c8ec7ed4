import ArgumentParser
import Foundation
import Store
import Web

/// `recap serve`: a read-only web page over an output folder of `recap run`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Browse, play and search an output folder in a web browser (read-only).",
        discussion: """
            Serves a library of every video in the store (title, duration, contact sheet, tags, done or failed \
            and why), a player per video with subtitles, chapters, scenes and a transcript to click through, and \
            search across the archive. Nothing can be changed through it: only GET and HEAD are answered, and \
            only the files the store records for a job (never a path from the URL).

            It listens on 127.0.0.1 by default: use --host 0.0.0.0 only on a network you trust, as there is no \
            login. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.

            Examples:
              recap serve --out ~/recaps
              recap serve --out /srv/recaps --host 0.0.0.0 --port 8080
            """
    )

    @Option(name: .long, help: ArgumentHelp("The output folder of `recap run`.", valueName: "dir"))
    var out: String

    @Option(name: .long, help: ArgumentHelp(
        "The job store file.",
        discussion: "Default: $RECAP_STORE if set, else OUT/.recap/store.sqlite.", valueName: "file"))
    var store: String?

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0 picks a free one).")
    var port = 8470

    @Flag(name: .long, help: "Let the video pages correct titles, summaries and captions (kept in the job store beside the model's answer; `recap export --format sft` writes them as fine-tuning data). Without it the server is read-only.")
    var review = false

    @Flag(name: .customLong("words-only"), help: "Search by words only (no embedding model is started).")
    var wordsOnly = false

    @OptionGroup(title: "Embeddings (search by meaning)")
    var embedding: EmbeddingOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        let outURL = URL(fileURLWithPath: (out as NSString).expandingTildeInPath).standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: outURL.path, isDirectory: &isDir), isDir.boolValue else {
            throw StoreCLI.fail(ServeError(message: "--out \(outURL.path) is not a folder"))
        }
        let db: JobStore
        let archive: Archive
        do {
            db = try JobStore(url: StoreChoice.indexFile(store: store, outputFolder: outURL.path, command: "serve"), options: .init(create: false))
            archive = try Archive(out: outURL, store: db)
        } catch {
            throw StoreCLI.fail(error)
        }
        // Search by words and meaning, like `recap search`; by words alone when the embedding model is missing.
        var embedder: Embedding?
        if !wordsOnly {
            do { embedder = try embedding.make() } catch {
                FileHandle.standardError.write(Data("recap serve: searching by words only: \(error)\n".utf8))
            }
        }
        let searcher = HybridSearcher(store: db, embedder: embedder?.embedder, modelID: embedder?.modelID,
                                      minSimilarity: SearchDefaults.minSimilarity)
        var server = WebServer(archive: archive, searcher: searcher, host: host, port: port)
        server.review = review
        do {
            try await server.run(handleSignals: true) { url in
                let line = "recap serve: \(url.absoluteString)  (output folder \(archive.outRoot); Ctrl-C to stop)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        } catch {
            await embedder?.stop()
            throw StoreCLI.fail(error)
        }
        await embedder?.stop()
        print("recap serve: stopped")
    }
}

struct ServeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
