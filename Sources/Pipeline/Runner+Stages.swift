import Foundation
import Engine
import Media
import Store

// How one stage runs under a lease: skip it when checkpointed, checkpoint what it returns, count its engine
// calls; and what happens to a job that fails, or is given back.
extension Runner {
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
            if calls > 0 { try? await store.recordEngineCalls(jobID: ctx.jobID, stage: key, count: calls) }
            try await store.checkpoint(ctx.lease, stage: key, encoding: v, startedAt: started)
            return (v, Date().timeIntervalSince(started))
        } catch {
            let calls = counter.value - before
            if calls > 0 { try? await store.recordEngineCalls(jobID: ctx.jobID, stage: key, count: calls) }
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
        _ = try? await store.fail(p.lease, stage: stageName.map { Store.Stage(rawValue: $0) }, message: reason, retryable: retryable)
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
        try? await store.release(p.lease)
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
                 sceneCuts: sceneCuts, contactSheet: contactSheet.map { Runner.relative($0, to: work) }, transitions: transitions,
                 warnings: warnings)
    }
}
