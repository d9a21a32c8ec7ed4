import ArgumentParser
import Engine
import Foundation
import Pipeline
import Store

/// What `recap run` and `recap worker` share: the pipeline, the output folder and its store, the engine, and
/// how a run is reported. One composition root for both, so a worker makes exactly the jobs' keys a run makes.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: "Pipeline name (summarize, social, archive-index) or a path to a pipeline YAML file.")
    var pipeline: String = PipelineLibrary.defaultName

    @Option(name: .long, help: "Output folder; the input tree is mirrored under it.")
    var out: String = StoreLocation.defaultOutputFolder

    @Option(name: .long, help: ArgumentHelp(
        "Job store: a SQLite file, or postgres://user:password@host:port/db shared by workers on many hosts.",
        discussion: "Default: $RECAP_STORE, else OUT/.recap/store.sqlite. With PostgreSQL, each host keeps its stat cache and run log in a SQLite file of its own under the cache folder.",
        valueName: "file|url"))
    var store: String?

    @Option(name: .long, help: "Files processed at once on each side (decoding and engine); decoding of the next file always overlaps the engine's work on the current one.")
    var jobs: Int = 1

    @Option(name: .long, help: "Seconds a file's claim lasts without a heartbeat: after a crash or kill, another run takes the file over this long after the last heartbeat.")
    var leaseSeconds: Double = 60

    @Option(name: .long, help: ArgumentHelp(
        "Who writes transcripts: engine (the model hears each ≤ 30 s clip; clip-level times, plus sounds, music and tone) or whisper (local whisper.cpp; timed segments for subtitles).",
        discussion: "Default: engine when the engine hears audio itself (--preset vllm), else whisper."))
    var transcripts: TranscriptSource?

    @Flag(name: .long, help: "Log every stage of every file to stderr (the default off a terminal is silence until the final summary).")
    var verbose = false

    @Flag(name: .long, help: "Print the run summary as JSON on stdout.")
    var json = false

    @Flag(name: .long, help: "Also put an English version of the speech in the transcript (whisper's translate task, base model).")
    var translate = false

    @Flag(name: .customLong("no-speakers"), help: "Do not label who speaks when (saves the voice encoder's time, about 5% of transcription's).")
    var noSpeakers = false

    @Option(name: .customLong("max-line-chars"), help: ArgumentHelp("Subtitles: longest line (default 42, or the pipeline's output.subtitles).", valueName: "n"))
    var maxLineChars: Int?

    @Option(name: .customLong("max-cps"), help: ArgumentHelp("Subtitles: fastest reading speed, characters per second (default 17).", valueName: "n"))
    var maxCPS: Double?

    @Flag(name: .customLong("no-vectors"), help: "Do not embed indexed texts for search by meaning (search then works by words; a later run without this flag catches up).")
    var noVectors = false

    @OptionGroup(title: "Engine")
    var engine: EngineOptions

    @OptionGroup(title: "Embeddings (search by meaning)")
    var embedding: EmbeddingOptions

    @Option(name: .customLong("root"), help: ArgumentHelp(
        "Name an input root: jobs record their files as NAME + the path under it, and a worker on another host finds them under its own PATH for NAME.",
        discussion: "Repeatable. Example: --root media=/mnt/nas/media on the host that enqueues, --root media=/Volumes/media on a worker.",
        valueName: "NAME=PATH"))
    var roots: [String] = []

    func validate() throws {
        guard leaseSeconds >= 3 else { throw ValidationError("--lease-seconds must be at least 3") }
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
        if let maxLineChars, !(10...200).contains(maxLineChars) { throw ValidationError("--max-line-chars must be between 10 and 200") }
        if let maxCPS, !(5...60).contains(maxCPS) { throw ValidationError("--max-cps must be between 5 and 60") }
    }

    /// The pipeline, the output folder (created) and the store (opened, migrated), or exit 1 with the reason.
    func openOutput(_ command: String) async -> RunOutput {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let spec: PipelineSpec
        do { spec = try PipelineLibrary.resolve(pipeline).withSubtitles(maxLineChars: maxLineChars, maxCharsPerSecond: maxCPS) } catch { Self.fail(command, 1, "\(error)") }
        let rootMap: RootMap
        do { rootMap = try RootMap(roots, relativeTo: cwd) } catch { Self.fail(command, 64, "\(error)") }
        let outURL = URL(fileURLWithPath: (out as NSString).expandingTildeInPath, relativeTo: cwd).standardizedFileURL
        do { try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true) } catch {
            Self.fail(command, 1, "\(outURL.path): cannot create the output folder (\(error.localizedDescription))")
        }
        switch StoreChoice.resolve(store: store, outputFolder: outURL.path) {
        case .sqlite(let storeURL):
            let jobStore: JobStore
            do { jobStore = try JobStore(url: storeURL) } catch { Self.fail(command, 1, "\(error)") }
            return RunOutput(spec: spec, roots: rootMap, outURL: outURL, storeURL: storeURL, store: jobStore, queue: jobStore)
        case .postgres(let url):
            let storeURL = StoreChoice.hostStore(outputFolder: outURL, database: url)
            let local: JobStore
            do {
                try FileManager.default.createDirectory(at: storeURL.deletingLastPathComponent(), withIntermediateDirectories: true)
                local = try JobStore(url: storeURL)
            } catch { Self.fail(command, 1, "\(error)") }
            // Each concurrent stage may hold a connection; a few more for heartbeats and the worker's polling.
            do {
                let shared = try await StoreChoice.openPostgres(url, connections: 2 * jobs + 4)
                return RunOutput(spec: spec, roots: rootMap, outURL: outURL, storeURL: storeURL, store: local, queue: shared)
            } catch { Self.fail(command, 1, "\(error)") }
        }
    }

    /// The engine (made, not started: llama-server starts on first use) and the runner over it. `relativePaths`
    /// are the inputs' paths under their roots, so same-stem files keep apart outputs.
    func makeRunner(_ o: RunOutput, relativePaths: [String], command: String) async -> (Runner, any Engine) {
        var settings = engine.settings
        settings.translate = translate
        settings.speakers = !noSpeakers
        settings.handleSignals = false  // the command stops the engine itself, after giving back its leases
        // The composition root: one whisper and one Tesseract for the whole process, shared by the pipeline
        // (transcripts, on-screen text) and the local engine (its audio and image parts).
        let models: LocalModels
        do { models = try settings.localModels(defaultSpeech: o.spec.audio.model) } catch { Self.fail(command, 1, "\(error)") }
        let theEngine: any Engine
        do { theEngine = try await settings.makeEngine(models: models) } catch {
            if error is EnginePoolError { Self.fail(command, 1, "\(error)") }
            if case EngineError.httpStatus(let url, let status, _)? = error as? EngineError, status == 401 || status == 403 {
                Self.fail(command, 1, "the API key was refused by \(url) (HTTP \(status)); set RECAP_API_KEY (or OPENAI_API_KEY) to a key the server accepts")
            }
            Self.fail(command, 3, "engine unavailable: \(error)")
        }
        let bridge = EngineBridge(theEngine)
        let source = transcripts ?? TranscriptSource.default(for: bridge.description)
        if source == .engine, !bridge.description.hearsAudio {
            await theEngine.shutdown()
            Self.fail(command, 1, "--transcripts engine needs an engine that hears audio itself (vLLM with Gemma 3n, or --audio true); this one takes \(theEngine.capabilities.summary). Use --transcripts whisper.")
        }
        let speech = models.speech.map(WhisperSpeech.init)
        if o.spec.audio.enabled, source == .whisper, speech == nil {
            FileHandle.standardError.write(Data("recap: warning: no whisper model \"\(engine.speechModel ?? o.spec.audio.model)\" installed; transcripts are skipped (run `recap models install`)\n".utf8))
        }
        let progress = ProgressReporter(mode: ProgressReporter.choose(verbose: verbose, json: json))
        let runner = Runner(
            config: .init(spec: o.spec, out: OutputPaths(root: o.outURL).separating(relativePaths),
                          workRoot: o.storeURL.deletingLastPathComponent().appendingPathComponent("work"),
                          jobs: jobs, leaseSeconds: leaseSeconds, transcripts: source, roots: o.roots),
            store: o.queue, local: o.store, media: FFmpegMedia(ocr: models.ocr), speech: speech, engine: bridge, progress: progress)
        return (runner, theEngine)
    }

    /// Prints what the run did: problems on stderr, then the summary line (or JSON) on stdout.
    func report(_ summary: RunSummary) throws {
        if let problem = summary.searchVectorsProblem {
            FileHandle.standardError.write(Data("recap: warning: search by meaning not updated (search still works by words): \(problem)\n".utf8))
        }
        if let e = summary.engineUnavailable {
            FileHandle.standardError.write(Data("recap: stopped: \(e)\n".utf8))
        }
        for f in summary.failures {
            FileHandle.standardError.write(Data("recap: failed: \(f.path)\(f.stage.map { " (at \($0))" } ?? ""): \(f.reason)\n".utf8))
        }
        for f in summary.degraded {
            FileHandle.standardError.write(Data("recap: degraded: \(f.path): \(f.reason)\n".utf8))
        }
        for f in summary.resumed {
            FileHandle.standardError.write(Data("recap: resumed: \(f.path): \(f.reason)\n".utf8))
        }
        if verbose { for i in summary.discoveryIssues { FileHandle.standardError.write(Data("recap: skipped: \(i)\n".utf8)) } }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(summary), as: UTF8.self))
        } else {
            print(summary.line)
        }
    }

    static func fail(_ command: String, _ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("recap \(command): \(message)\n".utf8))
        Foundation.exit(code)
    }
}

/// The output side of a run, opened before anything is scanned.
struct RunOutput {
    var spec: PipelineSpec
    var roots: RootMap
    var outURL: URL
    /// This host's SQLite store (its scratch folder is beside it).
    var storeURL: URL
    var store: JobStore
    /// Where the jobs are: `store` itself, or a PostgreSQL store shared by many hosts.
    var queue: any PipelineStore
    var sharesJobs: Bool { !(queue is JobStore) }
}
