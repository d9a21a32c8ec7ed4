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

    @Option(name: .long, help: "Pipeline name (summarize, social, archive-index) or a path to a pipeline YAML file.")
    var pipeline: String = PipelineLibrary.defaultName

    @Option(name: .long, help: "Output folder; the input tree is mirrored under it.")
    var out: String = StoreLocation.defaultOutputFolder

    @Option(name: .long, help: "Job store file (default: $RECAP_STORE, else OUT/.recap/store.sqlite).")
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

    func validate() throws {
        guard leaseSeconds >= 3 else { throw ValidationError("--lease-seconds must be at least 3") }
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
        guard !paths.isEmpty else { throw ValidationError("give at least one folder or file to process") }
        if let maxLineChars, !(10...200).contains(maxLineChars) { throw ValidationError("--max-line-chars must be between 10 and 200") }
        if let maxCPS, !(5...60).contains(maxCPS) { throw ValidationError("--max-cps must be between 5 and 60") }
    }

    func run() async throws {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        let inputs = paths.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath, relativeTo: cwd).standardizedFileURL }
        for u in inputs where !FileManager.default.fileExists(atPath: u.path) {
            fail(1, "\(u.path): no such file or folder")
        }
        let spec: PipelineSpec
        do { spec = try PipelineLibrary.resolve(pipeline).withSubtitles(maxLineChars: maxLineChars, maxCharsPerSecond: maxCPS) } catch { fail(1, "\(error)") }

        let outURL = URL(fileURLWithPath: (out as NSString).expandingTildeInPath, relativeTo: cwd).standardizedFileURL
        do { try FileManager.default.createDirectory(at: outURL, withIntermediateDirectories: true) } catch {
            fail(1, "\(outURL.path): cannot create the output folder (\(error.localizedDescription))")
        }
        let storeURL = StoreLocation.resolve(store: store, outputFolder: outURL.path)
        let jobStore: JobStore
        do { jobStore = try JobStore(url: storeURL) } catch { fail(1, "\(error)") }

        // Discovery first: an unchanged folder never needs the engine, but the engine's identity is part
        // of every job's key, so it is made (not started: llama-server starts on first use) before the scan.
        let found = Discovery(excluded: [outURL]).discover(inputs)

        var settings = engine.settings
        settings.translate = translate
        settings.speakers = !noSpeakers
        settings.handleSignals = false  // this command stops the engine itself, after giving back its leases
        // The composition root: one whisper and one Tesseract for the whole process, shared by the pipeline
        // (transcripts, on-screen text) and the local engine (its audio and image parts).
        let models: LocalModels
        do { models = try settings.localModels(defaultSpeech: spec.audio.model) } catch { fail(1, "\(error)") }
        let theEngine: any Engine
        do { theEngine = try await settings.makeEngine(models: models) } catch {
            if error is EnginePoolError { fail(1, "\(error)") }
            if case EngineError.httpStatus(let url, let status, _)? = error as? EngineError, status == 401 || status == 403 {
                fail(1, "the API key was refused by \(url) (HTTP \(status)); set RECAP_API_KEY (or OPENAI_API_KEY) to a key the server accepts")
            }
            fail(3, "engine unavailable: \(error)")
        }
        let bridge = EngineBridge(theEngine)
        let source = transcripts ?? TranscriptSource.default(for: bridge.description)
        if source == .engine, !bridge.description.hearsAudio {
            await theEngine.shutdown()
            fail(1, "--transcripts engine needs an engine that hears audio itself (vLLM with Gemma 3n, or --audio true); this one takes \(theEngine.capabilities.summary). Use --transcripts whisper.")
        }
        let speech = models.speech.map(WhisperSpeech.init)
        if spec.audio.enabled, source == .whisper, speech == nil {
            FileHandle.standardError.write(Data("recap: warning: no whisper model \"\(engine.speechModel ?? spec.audio.model)\" installed; transcripts are skipped (run `recap models install`)\n".utf8))
        }

        let progress = ProgressReporter(mode: ProgressReporter.choose(verbose: verbose, json: json))
        let runner = Runner(
            config: .init(spec: spec, out: OutputPaths(root: outURL).separating(found.files.map(\.relativePath)), workRoot: storeURL.deletingLastPathComponent().appendingPathComponent("work"),
                          jobs: jobs, leaseSeconds: leaseSeconds, transcripts: source),
            store: jobStore, media: FFmpegMedia(ocr: models.ocr), speech: speech, engine: bridge, progress: progress)

        let embedding = self.embedding, indexVectors = !noVectors && !spec.index.isEmpty
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
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }

    /// Embeds every indexed text without a vector; returns how many were embedded and the problem, if any.
    static func embedForSearch(_ store: JobStore, _ options: EmbeddingOptions) async -> (Int, String?) {
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

    func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("recap run: \(message)\n".utf8))
        Foundation.exit(code)
    }
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
