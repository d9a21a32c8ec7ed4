import ArgumentParser
import Engine
import Foundation
import Pipeline
import Store

/// `recap run`: the product. Folders of videos in; summaries, captions and transcripts out, as JSON.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Summarize, caption and transcribe every video under the given folders.",
        discussion: """
            Finds media under PATH... (recursively; hidden files are skipped), runs a pipeline on each file and \
            writes, mirroring the input tree under --out:
              NAME.recap.json   the result (schemas/recap-output.v1.json)
              NAME.srt, .vtt    subtitles, when there is speech
              NAME.contact.jpg  a contact sheet of the sampled frames

            Work is recorded in a job store (default: OUT/.recap/store.sqlite; RECAP_STORE or --store to move it), \
            so a re-run skips finished files without calling the engine, and a killed run resumes where it stopped.

            Pipelines: summarize (default), social, archive-index, or a YAML file of your own (see pipelines/).

            Exit codes: 0 all succeeded; 2 some files failed, could not be read, or are degraded (listed on stderr; \
            degraded: the outputs were made without a usable model answer, and the next run asks again); 1 usage or \
            configuration error, or the server refused the API key; 3 engine unavailable (unreachable, or no answer \
            within --timeout); 130 interrupted (finished stages are kept).

            Examples:
              recap run ~/Videos --out ~/recaps
              recap run lectures --pipeline archive-index --out /srv/index --json
              recap run clips --pipeline social --engine openai --base-url http://gpu:8000/v1
              recap run clips --engine openai --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1
            """
    )

    @Argument(help: "Folders or media files to process.")
    var paths: [String]

    @OptionGroup var options: RunOptions

    @Flag(name: .customLong("enqueue-only"), help: "Scan and make the jobs, but process nothing: `recap worker` processes them (the summary says how many wait). Texts workers indexed since the last run are still embedded for search (--no-vectors skips it).")
    var enqueueOnly = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one folder or file to process") }
    }

    func run() async throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let inputs = paths.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, relativeTo: cwd).standardizedFileURL }
        for u in inputs where !FileManager.default.fileExists(atPath: u.path) {
            fail(1, "\(u.path): no such file or folder")
        }
        let o = await options.openOutput("run")
        // Discovery first: an unchanged folder never needs the engine, but the engine's identity is part
        // of every job's key, so it is made (not started: llama-server starts on first use) before the scan.
        let found = Discovery(excluded: [o.outURL]).discover(inputs)
        let (runner, theEngine) = await options.makeRunner(o, relativePaths: found.files.map(\.relativePath), command: "run")
        let jobStore = o.queue
        // Search vectors go where the texts are: the SQLite store, or the shared PostgreSQL one. Workers make
        // none; a `recap run` on any host embeds what every worker indexed, `--enqueue-only` included, so the
        // nightly cron job that fills the queue also makes the previous night's texts searchable by meaning.
        let embedding = options.embedding, indexVectors = !options.noVectors && !o.spec.index.isEmpty
        if enqueueOnly {
            var summary = await runner.enqueue(found)
            await theEngine.shutdown()
            if indexVectors {
                (summary.searchVectors, summary.searchVectorsProblem) = await Self.embedForSearch(jobStore, embedding)
            }
            try options.report(summary)
            if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
            return
        }

        let work = Task {
            var summary = await runner.run(found)
            summary.engineServers = (theEngine as? EnginePool)?.endpointReports()
            await theEngine.shutdown()
            if indexVectors, !summary.interrupted, !Task.isCancelled {
                // After the jobs, not inside them: the language model is stopped first (two llama-servers on two
                // cores only slow each other), and the texts of every job, old or new, that lack a vector are
                // embedded in one resumable pass (see VectorIndexing). Ctrl-C cancels it like the rest.
                let (added, problem) = await Self.embedForSearch(jobStore, embedding)
                summary.searchVectors = added
                summary.searchVectorsProblem = problem
            }
            return summary
        }
        let signals = SignalCancellation { work.cancel() }
        let summary = await work.value
        signals.stop()
        try options.report(summary)
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }

    /// Embeds every indexed text without a vector; returns how many were embedded and the problem, if any.
    static func embedForSearch(_ store: any VectorStore, _ options: EmbeddingOptions) async -> (Int, String?) {
        let embedding: Embedding
        do { embedding = try options.make() } catch { return (0, "\(error)") }
        let embedder = embedding.embedder
        let indexing = VectorIndexing(store: store, model: embedding.modelID) { try await embedder.embed($0) }
        do {
            let report = try await indexing.run()
            await embedding.stop()
            return (report.embedded, nil)
        } catch {
            await embedding.stop()
            return (0, "\(error)")
        }
    }

    func fail(_ code: Int32, _ message: String) -> Never { RunOptions.fail("run", code, message) }
}

extension TranscriptSource: ExpressibleByArgument {}

/// Ctrl-C and SIGTERM cancel the run (leases are released, the engine is stopped); a second signal
/// exits at once.
final class SignalCancellation: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    init(_ onSignal: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [self] in
                let n = lock.withLock { count += 1; return count }
                if n > 1 { Foundation.exit(130) }
                FileHandle.standardError.write(Data("\nrecap: stopping (finished stages are kept; press Ctrl-C again to quit at once)\n".utf8))
                onSignal()
            }
            s.resume()
            sources.append(s)
        }
    }

    func stop() {
        for s in sources { s.cancel() }
        for sig in [SIGINT, SIGTERM] { signal(sig, SIG_DFL) }
    }
}
