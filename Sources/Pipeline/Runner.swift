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
        public init(spec: PipelineSpec, out: OutputPaths, workRoot: URL, jobs: Int = 1,
                    owner: String = JobStore.makeOwner(), leaseSeconds: Double = 120, transcripts: TranscriptSource = .whisper) {
            self.spec = spec; self.out = out; self.workRoot = workRoot; self.jobs = max(1, jobs)
            self.owner = owner; self.leaseSeconds = leaseSeconds; self.transcripts = transcripts
        }
    }

    public let config: Config
    public let store: JobStore
    public let media: any MediaPort
    public let speech: (any SpeechPort)?
    public let engine: any EnginePort
    public let progress: ProgressReporter

    public init(config: Config, store: JobStore, media: any MediaPort, speech: (any SpeechPort)?,
                engine: any EnginePort, progress: ProgressReporter) {
        self.config = config; self.store = store; self.media = media; self.speech = speech
        self.engine = engine; self.progress = progress
    }

    var spec: PipelineSpec { config.spec }

    /// The job's idempotency key: `JobKey`, documented there.
    public var identity: JobIdentity {
        JobKey(spec: spec, engine: engine.description, transcripts: hearing.map { h -> String in
            switch h.by {
            case .engine: return "engine"
            case .whisper(let speech): return "whisper:\(speech.modelName)"
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
        let started = Date()
        var base = RunSummary(pipeline: "\(spec.name) v\(spec.version)", out: config.out.root.path, store: store.path)
        base.discovered = found.files.count
        base.discoveryIssues = found.issues.filter { !$0.isFailure }.map(\.description)
        // Media that was pointed at but cannot be read fails the run (exit 2), each with its reason.
        base.failures += found.issues.filter(\.isFailure).map { RunSummary.Failure(path: $0.path, stage: nil, reason: $0.reason) }
        let runID = try? store.beginRun(command: CommandLine.arguments.joined(separator: " "))
        sweepWorkFolders()
        let id = identity
        let report: RescanReport
        do {
            report = try store.rescan(found.files.map(\.url), identity: id)
        } catch {
            base.failures.append(.init(path: store.path, stage: nil, reason: "the job store refused the scan: \(error)"))
            base.settleExitCode()
            return base
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
                let why = (try? store.job(jobID))??.lastError ?? "failed in an earlier run"
                base.failures.append(.init(path: file.relativePath, stage: nil, reason: "\(why) (earlier run; `recap jobs retry` to try again)"))
            default: break
            }
        }
        let pending = report.pendingJobIDs.compactMap { id in byJob[id].map { (id, $0) } }
        let tally = Tally(base)
        await progress.begin(total: pending.count)

        let queue = WorkQueue(pending.map { JobTicket(jobID: $0.0, file: $0.1) })
        let channel = BoundedChannel<Prepared>(capacity: config.jobs)
        let n = config.jobs
        await withTaskGroup(of: Bool.self) { group in
            // Decoding side: N workers claim, probe, sample frames, extract audio and transcribe.
            group.addTask {
                await withTaskGroup(of: Void.self) { producers in
                    for _ in 0..<n {
                        producers.addTask {
                            while !Task.isCancelled, let ticket = await queue.next() {
                                if let p = await self.prepare(ticket, tally: tally) { await channel.send(p) }
                            }
                        }
                    }
                }
                await channel.finish()
                return false
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
        // Every path gets its outputs: copies and moved files from the finished work, with no engine call.
        if !Task.isCancelled {
            let placement = OutputPlacement(store: store, out: config.out)
            for (item, file) in zip(report.items, found.files) {
                guard let jobID = item.jobID else { continue }
                do {
                    switch try placement.place(file, jobID: jobID) {
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
            if let (folder, _) = try? config.out.location(forRelativePath: f.relativePath), folders.insert(folder.path).inserted {
                AtomicFile.sweep(folder)
            }
        }
        await progress.end()
        var summary = await tally.get()
        if Task.isCancelled { summary.interrupted = true }
        summary.wallSeconds = Date().timeIntervalSince(started)
        summary.settleExitCode()
        if let runID {
            try? store.finishRun(runID, counts: RunCounts(discovered: summary.discovered, enqueued: report.enqueued,
                                                          succeeded: summary.succeeded, failed: summary.failures.count,
                                                          skipped: summary.unchanged), finished: !summary.interrupted)
        }
        return summary
    }

    struct JobTicket: Sendable { var jobID: Int64; var file: Discovery.File }

    /// Removes the work folders of jobs that are finished or gone: a kill between a job's completion and its
    /// clean-up leaves one behind, and nothing else would ever remove it. Folders of jobs that may still
    /// resume (queued, running, failed) are kept: their checkpoints point into them.
    func sweepWorkFolders() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: config.workRoot.path) else { return }
        for name in names {
            guard let id = Int64(name) else { continue }
            let job: Job?
            do { job = try store.job(id) } catch { continue }  // the store could not say: keep it
            switch job?.state {
            case nil, .succeeded?, .dead?, .cancelled?:
                try? FileManager.default.removeItem(at: config.workRoot.appendingPathComponent(name, isDirectory: true))
            default:
                continue
            }
        }
    }

    // MARK: - Decoding side

    func prepare(_ t: JobTicket, tally: Tally) async -> Prepared? {
        let claimed: ClaimedJob
        do {
            guard let c = try store.claim(jobID: t.jobID, owner: config.owner, leaseDuration: config.leaseSeconds) else {
                if let job = try? store.job(t.jobID), job.state == .failed {
                    // An earlier attempt failed and its retry backoff has not elapsed yet.
                    let when = ISO8601DateFormatter().string(from: job.notBefore)
                    await record(failure: .init(path: t.file.relativePath, stage: nil,
                                                reason: "\(job.lastError ?? "failed earlier"); next retry after \(when)"), job: t.jobID, tally: tally)
                    return nil
                }
                await tally.update { $0.busyElsewhere += 1 }
                await progress.finished(job: t.jobID, file: t.file.relativePath, ok: true, mediaSeconds: 0, note: "(busy in another run)")
                return nil
            }
            claimed = c
        } catch {
            await record(failure: .init(path: t.file.relativePath, stage: nil, reason: "could not claim the job: \(error)"), job: t.jobID, tally: tally)
            return nil
        }
        let lease = claimed.lease
        let heartbeat = Task { [store] in
            var current = lease
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(lease.duration / 3 * 1e9))
                if Task.isCancelled { break }
                guard let next = try? store.heartbeat(current) else { break }
                current = next
            }
        }
        let work = config.workRoot.appendingPathComponent("\(t.jobID)", isDirectory: true)
        var p = Prepared(lease: lease, jobID: t.jobID, file: t.file, fingerprint: claimed.job.fingerprint,
                         checkpoints: claimed.checkpoints, probe: RecapOutput.Probe(container: "", durationSeconds: 0, hasVideo: false, hasAudio: false),
                         frames: FrameSet(frames: [], sceneCuts: [], contactSheet: nil), transcript: nil, warnings: [], timings: [:],
                         workDir: work, heartbeat: heartbeat)
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let url = t.file.url
            p.probe = try await stage(.probe, &p) { try await self.media.probe(url) }
            await progress.media(seconds: p.probe.durationSeconds)
            let probe = p.probe
            let ctx = StageContext(jobID: p.jobID, lease: p.lease, checkpoints: p.checkpoints, file: p.file.relativePath)
            // Frames (decode, scene detection, OCR) and audio → transcription share nothing: run them side by
            // side so the second core is busy while whisper or the scene detector works.
            async let framesDone: (FrameSet, Double) = runStage(.frames, ctx, valid: { (f: FrameSet) in
                f.frames.allSatisfy { FileManager.default.fileExists(atPath: work.appendingPathComponent($0.file).path) }
            }) {
                guard probe.hasVideo, self.spec.has(.frames) else { return FrameSet(frames: [], sceneCuts: [], contactSheet: nil) }
                return try await self.media.sampleFrames(url, settings: self.spec.frames, probe: probe, into: work.appendingPathComponent("frames"))
                    .relativized(to: work)
            }
            let hearing = self.hearing
            let wantsAudio = probe.hasAudio && spec.has(.audio) && hearing != nil
            let (audio, audioSeconds): (AudioSet, Double) = try await runStage(.audio, ctx, valid: { (a: AudioSet) in
                (a.clips ?? []).allSatisfy { FileManager.default.fileExists(atPath: work.appendingPathComponent($0.file).path) }
            }) {
                guard wantsAudio else { return AudioSet(clips: nil) }
                let clips = try await self.media.extractAudio(url, clipSeconds: self.spec.audio.clipSeconds, into: work.appendingPathComponent("audio"))
                return AudioSet(clips: clips?.map { var c = $0; c.file = Self.relative($0.file, to: work); return c })
            }
            let counter = counter(for: p.jobID)
            let (heard, transcribeSeconds): (HeardAudio, Double) = try await runStage(.transcribe, ctx) {
                guard let clips = audio.clips, let hearing else { return HeardAudio(transcript: nil, warnings: []) }
                return try await hearing.run(clips, work: work, counter: counter)
            }
            let (frames, framesSeconds) = try await framesDone
            p.frames = frames
            p.timings["frames"] = framesSeconds
            p.timings["audio"] = audioSeconds
            p.timings["transcribe"] = transcribeSeconds
            p.transcript = heard.transcript
            p.warnings += heard.warnings
            return p
        } catch {
            await fail(p, error, tally: tally)
            return nil
        }
    }

    static func relative(_ path: String, to work: URL) -> String {
        let w = work.standardizedFileURL.path + "/"
        return path.hasPrefix(w) ? String(path.dropFirst(w.count)) : path
    }

    // MARK: - Engine side

    /// Returns true when the engine turned out to be unavailable (the run stops).
    func finish(_ prepared: Prepared, tally: Tally) async -> Bool {
        var p = prepared
        let snapshot = prepared
        do {
            let seen: SeenScenes = try await stage(.visual, &p) {
                try await SeeStage(engine: self.engine, describe: self.spec.has(.visual))
                    .run(snapshot.frames, duration: snapshot.probe.durationSeconds, work: snapshot.workDir, counter: self.counter(for: snapshot.jobID))
            }
            let scenes = seen.scenes
            let evidence = Evidence(fileName: p.file.url.lastPathComponent, probe: p.probe,
                                    segments: p.transcript?.segments ?? [], scenes: scenes)
            let summary: SummaryCheckpoint = try await stage(.summarize, &p) {
                let o = try await Summarizer(spec: self.spec, engine: self.engine).run(evidence, counter: self.counter(for: snapshot.jobID))
                return SummaryCheckpoint(results: o.results, extract: o.extract, grounding: o.grounding,
                                         provenance: o.provenance, warnings: o.warnings, chunks: o.chunks)
            }
            let result = JobResult(file: p.file, fingerprint: p.fingerprint, probe: p.probe, frames: p.frames,
                                   transcript: p.transcript, scenes: scenes, summary: summary,
                                   warnings: p.warnings + seen.warnings, timings: p.timings, workDir: p.workDir)
            let writer = WriteStage(spec: spec, out: config.out, engine: engine.description, identity: identity.engine, ocrModel: media.ocrModel)
            let written: [String] = try await stage(.write, &p) { try writer.write(result) }
            try store.replaceSearchEntries(p.lease, path: p.file.url.path, entries: writer.searchEntries(result))
            try store.complete(p.lease, result: JSONValue.array(written.map { .string($0) }).data())
            p.heartbeat.cancel()
            try? FileManager.default.removeItem(at: p.workDir)
            let calls = (try? store.engineCalls(jobID: p.jobID).values.reduce(0, +)) ?? 0
            let timings = p.timings
            let callsNow = counters.take(p.jobID)
            let seconds = p.probe.durationSeconds
            await tally.update {
                $0.succeeded += 1; $0.processed += 1; $0.outputs += written; $0.mediaSeconds += seconds
                $0.engineCalls += callsNow
                for (k, v) in timings { $0.stageSeconds[k, default: 0] += v }
            }
            await progress.finished(job: p.jobID, file: p.file.relativePath, ok: true, mediaSeconds: p.probe.durationSeconds,
                                    note: "(\(calls) engine call\(calls == 1 ? "" : "s") in all)")
            return false
        } catch {
            if (error as? StageFailure)?.underlying is EngineUnavailable {
                await abandon(p)
                let msg = "\((error as! StageFailure).underlying)"
                await tally.update { $0.engineUnavailable = msg }
                return true
            }
            await fail(p, error, tally: tally)
            return false
        }
    }


    let counters = CounterBook()

    func counter(for job: Int64) -> EngineCallCounter { counters.counter(job) }

    // MARK: - Stages, failure, release

    /// Runs one stage unless an earlier attempt checkpointed it; checkpoints its result; counts its
    /// engine calls and time.
    /// What a stage needs to know about its job; Sendable, so independent stages can run concurrently.
    struct StageContext: Sendable {
        var jobID: Int64
        var lease: Lease
        var checkpoints: [Store.Stage: Checkpoint]
        var file: String
    }

    func stage<T: Codable & Sendable>(_ s: PipelineSpec.Stage, _ p: inout Prepared, valid: @Sendable (T) -> Bool = { _ in true },
                                      _ compute: () async throws -> T) async throws -> T {
        let ctx = StageContext(jobID: p.jobID, lease: p.lease, checkpoints: p.checkpoints, file: p.file.relativePath)
        let (v, seconds) = try await runStage(s, ctx, valid: valid, compute)
        p.timings[s.rawValue] = seconds
        return v
    }

    /// Runs one stage unless an earlier attempt checkpointed it; checkpoints its result; counts its
    /// engine calls. Returns the value and the stage's time (the checkpoint's, when resumed).
    func runStage<T: Codable & Sendable>(_ s: PipelineSpec.Stage, _ ctx: StageContext, valid: @Sendable (T) -> Bool = { _ in true },
                                         _ compute: () async throws -> T) async throws -> (T, Double) {
        let key = Store.Stage(rawValue: s.rawValue)
        if let cp = ctx.checkpoints[key], let v = try? cp.decode(T.self), valid(v) {
            return (v, cp.duration)
        }
        try Task.checkCancellation()
        await progress.stage(job: ctx.jobID, file: ctx.file, stage: s.rawValue)
        let started = Date()
        let counter = counter(for: ctx.jobID)
        let before = counter.value
        do {
            let v = try await compute()
            let calls = counter.value - before
            if calls > 0 { try? store.recordEngineCalls(jobID: ctx.jobID, stage: key, count: calls) }
            try store.checkpoint(ctx.lease, stage: key, value: v, startedAt: started)
            return (v, Date().timeIntervalSince(started))
        } catch {
            let calls = counter.value - before
            if calls > 0 { try? store.recordEngineCalls(jobID: ctx.jobID, stage: key, count: calls) }
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            if error is StoreError { throw error }
            // A file that is not media fails at probe: retrying it cannot help.
            throw StageFailure(stage: s, underlying: error, retryable: s != .probe && !(error is OutputPaths.PathError))
        }
    }

    func fail(_ p: Prepared, _ error: any Error, tally: Tally) async {
        p.heartbeat.cancel()
        if error is CancellationError || Task.isCancelled {
            await abandon(p)
            return
        }
        let stageName: String?
        let reason: String
        var retryable = true
        if let f = error as? StageFailure {
            stageName = f.stage.rawValue; reason = "\(f.underlying)"; retryable = f.retryable
        } else if case StoreError.leaseLost(_, let detail)? = error as? StoreError {
            // Another process owns the job now; it will finish it. Nothing of ours is written.
            await tally.update { $0.busyElsewhere += 1 }
            await progress.finished(job: p.jobID, file: p.file.relativePath, ok: true, mediaSeconds: 0, note: "(lease lost: \(detail))")
            return
        } else {
            stageName = nil; reason = "\(error)"
        }
        _ = try? store.fail(p.lease, stage: stageName.map { Store.Stage(rawValue: $0) }, message: reason, retryable: retryable)
        try? FileManager.default.removeItem(at: p.workDir)
        let callsNow = counters.take(p.jobID)
        await tally.update { $0.engineCalls += callsNow }
        await record(failure: .init(path: p.file.relativePath, stage: stageName, reason: reason), job: p.jobID, tally: tally)
    }

    func record(failure: RunSummary.Failure, job: Int64, tally: Tally) async {
        await tally.update { $0.failures.append(failure); $0.processed += 1 }
        await progress.finished(job: job, file: failure.path, ok: false, mediaSeconds: 0, note: "at \(failure.stage ?? "start"): \(failure.reason)")
    }

    /// Gives a job back (Ctrl-C or engine gone): checkpoints stay, the attempt does not count.
    func abandon(_ p: Prepared) async {
        p.heartbeat.cancel()
        try? store.release(p.lease)
    }
}

/// Per-job engine call counters, shared by the stages of one job across the two sides of the run.
final class CounterBook: @unchecked Sendable {
    private let lock = NSLock()
    private var counters: [Int64: EngineCallCounter] = [:]
    private var taken: [Int64: Int] = [:]
    func counter(_ job: Int64) -> EngineCallCounter {
        lock.lock(); defer { lock.unlock() }
        if let c = counters[job] { return c }
        let c = EngineCallCounter(); counters[job] = c; return c
    }
    /// Calls made for `job` in this process since the last take.
    func take(_ job: Int64) -> Int {
        lock.lock(); defer { lock.unlock() }
        let v = counters[job]?.value ?? 0
        let before = taken[job] ?? 0
        taken[job] = v
        return v - before
    }
}

extension FrameSet {
    /// Frame paths relative to the job's work folder, so a checkpoint survives the folder being moved.
    func relativized(to work: URL) -> FrameSet {
        FrameSet(frames: frames.map { var f = $0; f.file = Runner.relative($0.file, to: work); return f },
                 sceneCuts: sceneCuts, contactSheet: contactSheet.map { Runner.relative($0, to: work) })
    }
}
