import Foundation
import Engine
import Media
import Store

/// Runs a pipeline over discovered files: enqueue in the store, then process jobs with bounded
/// concurrency, overlapping the decoding stages of one file (probe, frames, audio, transcribe) with the
/// engine stages of another (visual, summarize, write). Every stage is checkpointed; a job resumes at
/// its first unfinished stage; engine calls are counted per stage.
public final class Runner: Sendable {
    public struct Config: Sendable {
        public var spec: PipelineSpec
        public var out: OutputPaths
        /// Scratch for frames and audio clips between stages: `<work>/<job id>/`, removed when the job is done.
        public var workRoot: URL
        public var jobs: Int
        public var owner: String
        public var leaseSeconds: Double
        /// Who makes transcripts: the engine (it hears the clips) or local whisper.
        public var transcripts: TranscriptSource
        /// Named input roots (`--root NAME=PATH`): jobs record their file as root + relative path.
        public var roots: RootMap
        public init(spec: PipelineSpec, out: OutputPaths, workRoot: URL, jobs: Int = 1,
                    owner: String = JobStore.makeOwner(), leaseSeconds: Double = 120, transcripts: TranscriptSource = .whisper,
                    roots: RootMap = RootMap()) {
            self.spec = spec; self.out = out; self.workRoot = workRoot; self.jobs = max(1, jobs)
            self.owner = owner; self.leaseSeconds = leaseSeconds; self.transcripts = transcripts; self.roots = roots
        }
    }

    public let config: Config
    /// The jobs: this host's SQLite store, or a store shared by many hosts (PostgreSQL).
    public let store: any PipelineStore
    /// This host's own SQLite store: its stat cache (inodes are per host) and its run log. With one host it
    /// is `store` itself.
    public let local: JobStore
    public let media: any MediaPort
    public let speech: (any SpeechPort)?
    public let engine: any EnginePort
    public let progress: ProgressReporter
    /// Engine calls per job, shared by the two sides of the run.
    let counters = CounterBook()

    public convenience init(config: Config, store: JobStore, media: any MediaPort, speech: (any SpeechPort)?,
                            engine: any EnginePort, progress: ProgressReporter) {
        self.init(config: config, store: store, local: store, media: media, speech: speech, engine: engine, progress: progress)
    }

    public init(config: Config, store: any PipelineStore, local: JobStore, media: any MediaPort, speech: (any SpeechPort)?,
                engine: any EnginePort, progress: ProgressReporter) {
        self.config = config; self.store = store; self.local = local; self.media = media; self.speech = speech
        self.engine = engine; self.progress = progress
    }

    /// One host, one SQLite store: old identities are adopted.
    var sqlite: JobStore? { store as? JobStore }

    var spec: PipelineSpec { config.spec }

    /// The job's idempotency key: `JobKey`, documented there.
    public var identity: JobIdentity {
        JobKey(spec: spec, engine: engine.description, transcripts: hearing.map { h -> String in
            switch h.by {
            case .engine: return "engine"
            // "+screen-words": the slides' words prime whisper (SpeechHints), which changes what it writes.
            case .whisper(let speech): return "whisper:\(speech.method)+screen-words"
            }
        }).identity
    }

    /// The hear stage, when the pipeline listens and someone can: the engine, or local whisper.
    var hearing: HearStage? {
        guard spec.audio.enabled, spec.has(.transcribe) else { return nil }
        switch config.transcripts {
        case .engine: return HearStage(by: .engine(engine), language: spec.audio.language)
        case .whisper: return speech.map { HearStage(by: .whisper($0), language: spec.audio.language) }
        }
    }

    /// One job between the decoding side and the engine side.
    struct Prepared: Sendable {
        var lease: Lease
        var jobID: Int64
        var file: Discovery.File
        var fingerprint: String
        var checkpoints: [Store.Stage: Checkpoint]
        var probe: RecapOutput.Probe
        var frames: FrameSet
        var transcript: RecapOutput.Transcript?
        /// What the stages so far reported (rejected answers, missing clips), for the output's `warnings`.
        var warnings: [String]
        var timings: [String: Double]
        var workDir: URL
        var heartbeat: Task<Void, Never>
    }

    struct StageFailure: Error {
        var stage: PipelineSpec.Stage
        var underlying: any Error
        var retryable: Bool
    }

    /// Collects results from concurrent workers.
    actor Tally {
        var summary: RunSummary
        init(_ s: RunSummary) { summary = s }
        func update(_ f: @Sendable (inout RunSummary) -> Void) { f(&summary) }
        func get() -> RunSummary { summary }
    }

    public func run(_ found: Discovery.Result) async -> RunSummary {
        await run(found, enqueueOnly: false)
    }

    /// `recap run --enqueue-only`: the scan and the jobs, no work (workers do it: `recap worker`).
    public func enqueue(_ found: Discovery.Result) async -> RunSummary {
        await run(found, enqueueOnly: true)
    }

    func run(_ found: Discovery.Result, enqueueOnly: Bool) async -> RunSummary {
        let started = Date()
        var base = RunSummary(pipeline: "\(spec.name) v\(spec.version)", out: config.out.root.path, store: store.location)
        base.discovered = found.files.count
        base.discoveryIssues = found.issues.filter { !$0.isFailure }.map(\.description)
        // Media that was pointed at but cannot be read fails the run (exit 2), each with its reason.
        base.failures += found.issues.filter(\.isFailure).map { RunSummary.Failure(path: $0.path, stage: nil, reason: $0.reason) }
        let runID = try? local.beginRun(command: CommandLine.arguments.joined(separator: " "))
        await sweepWorkFolders()
        let id = identity
        // Jobs an earlier release made for the same work keep counting as done (see `JobKey.legacyIdentity`).
        // Only when nothing is transcribed: those releases transcribed without Silero VAD (words on music),
        // so their transcripts are not this work and are redone.
        if hearing == nil, let sqlite {
            _ = try? sqlite.adopt(JobKey.legacyIdentity(spec: spec, engine: engine.description, whisperModel: speech?.modelName), as: id)
        }
        let report: RescanReport
        do {
            report = try await store.rescan(paths: found.files.map { $0.url.standardizedFileURL.path }, identity: id, cache: local)
        } catch {
            base.failures.append(.init(path: store.location, stage: nil, reason: "the job store refused the scan: \(error)"))
            base.settleExitCode()
            return base
        }
        // Where each new or moved file lives, for workers elsewhere (unchanged files already said so).
        var roots: [Int64: JobRoot] = [:]
        for (item, file) in zip(report.items, found.files) where item.change != .unchanged {
            if let id = item.jobID { roots[id] = .init(root: config.roots.name(for: file.root), relativePath: file.relativePath) }
        }
        do { try await store.setRoots(roots) } catch {
            base.failures.append(.init(path: store.location, stage: nil, reason: "the job store refused the scan: \(error)"))
        }
        var byJob: [Int64: Discovery.File] = [:]
        for (item, file) in zip(report.items, found.files) {
            switch item.change {
            case .unreadable:
                base.failures.append(.init(path: file.relativePath, stage: nil, reason: item.error ?? "unreadable"))
                continue
            default: break
            }
            guard let jobID = item.jobID else { continue }
            if byJob[jobID] == nil { byJob[jobID] = file }
            switch item.state {
            case .succeeded?: base.unchanged += 1
            case .dead?, .cancelled?:
                let why = (try? await store.job(jobID))??.lastError ?? "failed in an earlier run"
                base.failures.append(.init(path: file.relativePath, stage: nil, reason: "\(why) (earlier run; `recap jobs retry` to try again)"))
            default: break
            }
        }
        let pending = report.pendingJobIDs.compactMap { id in byJob[id].map { (id, $0) } }
        if enqueueOnly {
            base.enqueued = report.enqueued
            base.pending = pending.count
            base.wallSeconds = Date().timeIntervalSince(started)
            base.settleExitCode()
            if let runID { try? local.finishRun(runID, counts: RunCounts(discovered: base.discovered, enqueued: report.enqueued, succeeded: 0,
                                                                          failed: base.failures.count, skipped: base.unchanged)) }
            return base
        }
        let tally = Tally(base)
        await progress.begin(total: pending.count)
        await process(pending.map { JobTicket(jobID: $0.0, file: $0.1) }, tally: tally)
        // Every path gets its outputs: copies and moved files from the finished work, with no engine call.
        if !Task.isCancelled {
            let placement = OutputPlacement(jobs: store, paths: local, out: config.out)
            for (item, file) in zip(report.items, found.files) {
                guard let jobID = item.jobID else { continue }
                do {
                    switch try await placement.place(file, jobID: jobID) {
                    case .copied?: await tally.update { $0.placed += 1 }
                    case .moved?: await tally.update { $0.placed += 1; $0.moved += 1 }
                    case nil: break
                    }
                } catch {
                    await tally.update { $0.failures.append(.init(path: file.relativePath, stage: "write", reason: "could not place its outputs: \(error)")) }
                }
            }
        }
        // Temp files a killed earlier run left in these output folders go now.
        var folders = Set<String>()
        for f in found.files {
            // Each folder once, and never through a symlink inside the output folder.
            guard let (folder, _) = try? config.out.place(forRelativePath: f.relativePath), folders.insert(folder.path).inserted,
                  folder.standardizedFileURL == config.out.root || (try? config.out.check(folder)) != nil else { continue }
            AtomicFile.sweep(folder)
        }
        await progress.end()
        var summary = await tally.get()
        if Task.isCancelled { summary.interrupted = true }
        summary.wallSeconds = Date().timeIntervalSince(started)
        summary.settleExitCode()
        if let runID {
            try? local.finishRun(runID, counts: RunCounts(discovered: summary.discovered, enqueued: report.enqueued,
                                                          succeeded: summary.succeeded, failed: summary.failures.count,
                                                          skipped: summary.unchanged), finished: !summary.interrupted)
        }
        return summary
    }

    struct JobTicket: Sendable { var jobID: Int64; var file: Discovery.File }

    /// Works through `tickets`: N decoding workers feed N engine workers over a bounded channel. Returns when
    /// all are done, the engine is gone, or the task is cancelled (every unfinished job is given back).
    func process(_ tickets: [JobTicket], tally: Tally) async {
        let queue = WorkQueue(tickets)
        let channel = BoundedChannel<Prepared>(capacity: config.jobs)
        let n = config.jobs
        await withTaskGroup(of: Bool.self) { group in
            // Decoding side: N workers claim, probe, sample frames, extract audio and transcribe.
            group.addTask {
                let gone = await withTaskGroup(of: Bool.self) { producers in
                    for _ in 0..<n {
                        producers.addTask {
                            while !Task.isCancelled, let ticket = await queue.next() {
                                // The hear stage talks to the engine too: if it is gone, stop claiming.
                                if await tally.get().engineUnavailable != nil { return true }
                                if let p = await self.prepare(ticket, tally: tally) { await channel.send(p) }
                            }
                            return await tally.get().engineUnavailable != nil
                        }
                    }
                    return await producers.contains(true)
                }
                await channel.finish()
                return gone
            }
            // Engine side: N workers describe scenes, summarize and write.
            for _ in 0..<n {
                group.addTask {
                    while let p = await channel.receive() {
                        if Task.isCancelled { await self.abandon(p); continue }
                        if await self.finish(p, tally: tally) { return true }
                    }
                    return false
                }
            }
            // The engine is gone: stop everything, give back every lease.
            for await unavailable in group where unavailable {
                group.cancelAll()
                await channel.finish()
            }
        }
        // Anything still buffered after a cancellation gives its lease back.
        for p in await channel.drain() { await abandon(p) }
    }

    /// Removes the work folders of jobs that are finished or gone: a kill between a job's completion and its
    /// clean-up leaves one behind, and nothing else would ever remove it. Folders of jobs that may still
    /// resume (queued, running, failed) are kept: their checkpoints point into them.
    func sweepWorkFolders() async {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: config.workRoot.path) else { return }
        for name in names {
            guard let id = Int64(name) else { continue }
            let job: Job?
            do { job = try await store.job(id) } catch { continue }  // the store could not say: keep it
            switch job?.state {
            case nil, .succeeded?, .dead?, .cancelled?:
                try? FileManager.default.removeItem(at: config.workRoot.appendingPathComponent(name, isDirectory: true))
            default:
                continue
            }
        }
    }
}
