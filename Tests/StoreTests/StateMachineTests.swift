import Foundation
import Testing
@testable import Store

/// The job state machine on a real SQLite file, with a manual clock driving leases and backoffs.
@Suite struct StateMachineTests {
    @Test func enqueueIsIdempotentOnFingerprintPipelineAndEngine() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let first = try store.enqueue(request(1))
        #expect(first.created)
        let again = try store.enqueue(EnqueueRequest(fingerprint: "fp-1", path: "/moved/clip.mp4", identity: testIdentity))
        #expect(!again.created)
        #expect(again.jobID == first.jobID)
        #expect(try store.job(first.jobID)?.path == "/moved/clip.mp4")  // the job follows the file

        var newModel = testIdentity
        newModel.engine = "local:test-model@2"
        var newPipeline = testIdentity
        newPipeline.pipelineVersion = "2"
        let other = try store.enqueue([
            EnqueueRequest(fingerprint: "fp-1", path: "/a.mp4", identity: newModel),
            EnqueueRequest(fingerprint: "fp-1", path: "/a.mp4", identity: newPipeline),
        ])
        #expect(other.allSatisfy { $0.created })
        #expect(Set(other.map(\.jobID)).count == 2)
        #expect(try store.counts()[.queued] == 3)
    }

    @Test func claimCheckpointCompleteAndResume() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let id = try store.enqueue(request(1)).jobID
        let claimed = try #require(try store.claim(owner: "a"))
        #expect(claimed.job.id == id)
        #expect(claimed.job.state == .running)
        #expect(claimed.lease.attempt == 1)
        #expect(claimed.firstUnfinished() == .probe)
        #expect(try store.claim(owner: "b") == nil)  // the only job is leased

        try store.checkpoint(claimed.lease, stage: .probe, value: ["duration": 12.5])
        try store.checkpoint(claimed.lease, stage: .frames, result: Data("[1,2]".utf8), fileRef: "frames/clip-1")
        let saved = try store.checkpoints(jobID: id)
        #expect(try saved[.probe]?.decode([String: Double].self) == ["duration": 12.5])
        #expect(saved[.frames]?.fileRef == "frames/clip-1")

        try store.release(claimed.lease)  // e.g. Ctrl-C
        let job = try #require(try store.job(id))
        #expect(job.state == .queued)
        #expect(job.attempts == 0)
        let resumed = try #require(try store.claim(owner: "b"))
        #expect(resumed.lease.attempt == 1)
        #expect(resumed.firstUnfinished() == .audio)  // probe and frames are not redone
        #expect(Set(resumed.checkpoints.keys) == [.probe, .frames])

        try store.complete(resumed.lease, result: Data(#"{"title":"t"}"#.utf8))
        let done = try #require(try store.job(id))
        #expect(done.state == .succeeded)
        #expect(done.leaseOwner == nil)
        #expect(done.result == Data(#"{"title":"t"}"#.utf8))
        #expect(try store.attempts(jobID: id).map(\.outcome) == [.released, .succeeded])
        #expect(throws: StoreError.self) { try store.complete(resumed.lease) }  // only once
    }

    @Test func leaseExpiryMakesAJobClaimableAndFencesTheOldOwner() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, lease: 10)
        let id = try store.enqueue(request(1)).jobID
        let a = try #require(try store.claim(owner: "a"))
        try store.checkpoint(a.lease, stage: .probe)

        clock.advance(by: 8)
        let extended = try store.heartbeat(a.lease)
        #expect(extended.expiresAt == clock.now().addingTimeInterval(10))
        clock.advance(by: 8)  // 16 s after the claim: alive only thanks to the heartbeat
        #expect(try store.claim(owner: "b") == nil)

        clock.advance(by: 2.5)  // past the extended expiry: "a" is presumed dead
        let b = try #require(try store.claim(owner: "b"))
        #expect(b.job.id == id)
        #expect(b.lease.attempt == 2)
        #expect(Set(b.checkpoints.keys) == [.probe])

        // Every write by the old owner is refused with a typed error.
        for write in [
            { try store.checkpoint(a.lease, stage: .frames) },
            { try store.heartbeat(a.lease) },
            { try store.complete(a.lease) },
            { _ = try store.fail(a.lease, stage: .frames, message: "x") },
            { try store.replaceSearchEntries(a.lease, path: "/x", entries: [SearchEntry(kind: .summary, text: "x")]) },
        ] as [() throws -> Void] {
            do {
                try write()
                Issue.record("a stale lease was allowed to write")
            } catch let error as StoreError {
                guard case .leaseLost(let jobID, _) = error else { Issue.record("wrong error \(error)"); continue }
                #expect(jobID == id)
            }
        }
        try store.release(a.lease)  // a no-op for a lost lease
        #expect(try store.job(id)?.leaseOwner == "b")

        let attempts = try store.attempts(jobID: id)
        #expect(attempts.map(\.outcome) == [.expired, .running])
        #expect(attempts[0].stage == .frames)  // where "a" was when it stopped
        #expect(attempts[0].message?.contains("expired") == true)
        try store.complete(b.lease)
        #expect(try store.job(id)?.state == .succeeded)
    }

    @Test func failuresBackOffExponentiallyThenDie() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, retry: RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 1000, jitter: 0))
        let id = try store.enqueue(request(1)).jobID

        var c = try #require(try store.claim(owner: "w"))
        #expect(try store.fail(c.lease, stage: .transcribe, message: "whisper crashed") == .failed)
        #expect(try store.job(id)?.notBefore == clock.now().addingTimeInterval(10))
        #expect(try store.claim(owner: "w") == nil)  // backing off
        clock.advance(by: 9.9)
        #expect(try store.claim(owner: "w") == nil)
        clock.advance(by: 0.1)
        c = try #require(try store.claim(owner: "w"))
        #expect(try store.fail(c.lease, stage: .summarize, message: "engine timeout") == .failed)
        #expect(try store.job(id)?.notBefore == clock.now().addingTimeInterval(20))  // doubled
        clock.advance(by: 20)
        c = try #require(try store.claim(owner: "w"))
        #expect(try store.fail(c.lease, stage: .write, message: "disk full") == .dead)
        clock.advance(by: 10_000)
        #expect(try store.claim(owner: "w") == nil)  // dead jobs are never claimed

        let attempts = try store.attempts(jobID: id)
        #expect(attempts.map(\.outcome) == [.failed, .failed, .failed])
        #expect(attempts.map(\.stage) == [.transcribe, .summarize, .write])
        #expect(attempts.map(\.message) == ["whisper crashed", "engine timeout", "disk full"])
        #expect(attempts.allSatisfy { $0.endedAt != nil })
        #expect(try store.job(id)?.lastError == "disk full")

        #expect(try store.retry(ids: [id]) == 1)
        let revived = try #require(try store.job(id))
        #expect(revived.state == .queued)
        #expect(revived.attempts == 0)
        #expect(try store.claim(owner: "w") != nil)
    }

    @Test func nonRetryableFailureGoesStraightToDead() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let id = try store.enqueue(request(1)).jobID
        let c = try #require(try store.claim(owner: "w"))
        #expect(try store.fail(c.lease, stage: .probe, message: "not a media file", retryable: false) == .dead)
        #expect(try store.job(id)?.state == .dead)
    }

    @Test func jitterKeepsTheDelayWithinItsBounds() throws {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 30, maxDelay: 600, jitter: 0.5)
        #expect(policy.nominalDelay(afterAttempt: 1) == 30)
        #expect(policy.nominalDelay(afterAttempt: 3) == 120)
        #expect(policy.nominalDelay(afterAttempt: 9) == 600)  // capped
        #expect(policy.delay(afterAttempt: 3, random: 0) == 120)
        #expect(policy.delay(afterAttempt: 3, random: 1) == 60)
        let samples = (0..<200).map { _ in policy.delay(afterAttempt: 2) }
        #expect(samples.allSatisfy { (30...60).contains($0) })
        #expect(Set(samples).count > 100)  // actually random

        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, retry: policy)
        let ids = try store.enqueue((0..<20).map { request($0) }).map(\.jobID)
        var waits: [TimeInterval] = []
        for _ in ids {
            let c = try #require(try store.claim(owner: "w"))
            try store.fail(c.lease, stage: nil, message: "engine down")
            waits.append(try #require(try store.job(c.job.id)).notBefore.timeIntervalSince(clock.now()))
        }
        #expect(waits.allSatisfy { (15...30).contains($0) })
        #expect(Set(waits).count > 1)
    }

    @Test func aFailingFileNeverBlocksTheOthers() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let bad = try store.enqueue(request(1)).jobID
        let good = try store.enqueue(request(2)).jobID
        let c1 = try #require(try store.claim(owner: "w"))
        #expect(c1.job.id == bad)
        try store.fail(c1.lease, stage: .probe, message: "truncated file")
        let c2 = try #require(try store.claim(owner: "w"))
        #expect(c2.job.id == good)
        try store.complete(c2.lease)
        #expect(try store.counts() == [.failed: 1, .succeeded: 1])
    }

    @Test func expiredLeaseOfAJobOutOfAttemptsMakesItDead() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock, lease: 5, retry: RetryPolicy(maxAttempts: 2, baseDelay: 1, jitter: 0))
        let id = try store.enqueue(request(1)).jobID
        _ = try #require(try store.claim(owner: "crash-1"))
        clock.advance(by: 6)
        _ = try #require(try store.claim(owner: "crash-2"))  // attempt 2
        clock.advance(by: 6)
        #expect(try store.claim(owner: "w") == nil)  // a file that kills every worker goes dead
        let job = try #require(try store.job(id))
        #expect(job.state == .dead)
        #expect(try store.attempts(jobID: id).map(\.outcome) == [.expired, .expired])
    }

    @Test func cancelStopsARunningJobAndRetryRevivesIt() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let id = try store.enqueue(request(1)).jobID
        let c = try #require(try store.claim(owner: "w"))
        try store.cancel(id)
        #expect(try store.job(id)?.state == .cancelled)
        #expect(throws: StoreError.self) { try store.heartbeat(c.lease) }
        #expect(try store.claim(owner: "w") == nil)
        #expect(throws: StoreError.invalidTransition(jobID: id, from: .cancelled, action: "cancelled")) { try store.cancel(id) }

        #expect(try store.retry(ids: [id]) == 1)
        let again = try #require(try store.claim(owner: "w"))
        try store.complete(again.lease)
        #expect(throws: StoreError.self) { try store.retry(ids: [id]) }  // succeeded jobs are not retried
        #expect(throws: StoreError.jobNotFound(jobID: 999)) { try store.cancel(999) }
    }

    @Test func bulkRetryRevivesOnlyTheRequestedStates() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir, retry: RetryPolicy(maxAttempts: 2, baseDelay: 100, jitter: 0))
        try store.enqueue((1...3).map { request($0) })
        let a = try #require(try store.claim(owner: "w"))
        try store.fail(a.lease, stage: nil, message: "x", retryable: false)  // dead
        let b = try #require(try store.claim(owner: "w"))
        try store.fail(b.lease, stage: nil, message: "y")  // failed, backing off
        #expect(try store.counts() == [.dead: 1, .failed: 1, .queued: 1])
        #expect(try store.retry(states: [.dead]) == 1)
        #expect(try store.counts() == [.failed: 1, .queued: 2])
        #expect(try store.retry(states: [.failed]) == 1)
        #expect(try store.counts() == [.queued: 3])
    }

    @Test func claimCanBeScopedToAnIdentityOrAJob() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        var social = testIdentity
        social.pipeline = "social"
        let s = try store.enqueue(request(1, identity: social)).jobID
        let t = try store.enqueue(request(2)).jobID
        #expect(try store.claim(owner: "w", identity: testIdentity)?.job.id == t)
        #expect(try store.claim(owner: "w", identity: testIdentity) == nil)
        #expect(try store.claim(jobID: s, owner: "w")?.job.id == s)
        #expect(try store.claim(jobID: s, owner: "v") == nil)  // already leased
    }

    @Test func aLeaseLeftByAStoppedRunOnThisHostIsTakenOverAtOnce() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir, lease: 3600)
        // A process of this host that has exited: its pid is free.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let dead = "recap@\(hostName()):\(gone.processIdentifier):abc"
        let a = try store.enqueue(request(1)).jobID
        let b = try store.enqueue(request(2)).jobID
        #expect(try store.claim(jobID: a, owner: dead) != nil)
        #expect(try store.claim(jobID: b, owner: "recap@another-host:\(gone.processIdentifier):abc") != nil)
        // Its lease has an hour left, but nobody holds it any more: the next run takes it, and says why.
        let taken = try #require(try store.claim(jobID: a, owner: "w"))
        #expect(taken.job.attempts == 2)
        #expect(try store.attempts(jobID: a).first?.message?.contains("stopped without giving it back") == true)
        // Another host's lease, or a live process's, runs out by time only.
        #expect(try store.claim(jobID: b, owner: "w") == nil)
        #expect(JobStore.ownerHasStopped(JobStore.makeOwner()) == false)
    }

    @Test func engineCallsAreCountedPerJobAndStage() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let id = try store.enqueue(request(1)).jobID
        try store.recordEngineCalls(jobID: id, stage: .transcribe)
        try store.recordEngineCalls(jobID: id, stage: .summarize, count: 3)
        try store.recordEngineCalls(jobID: id, stage: .summarize)
        #expect(try store.engineCalls(jobID: id) == [.transcribe: 1, .summarize: 4])
        #expect(try store.totalEngineCalls() == 5)
        #expect(try store.totalEngineCalls(stage: .summarize) == 4)
    }

    @Test func runsAndSummaryReportWhatHappened() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        let run = try store.beginRun(command: "recap run /media")
        try store.enqueue((1...3).map { request($0) })
        let a = try #require(try store.claim(owner: "w"))
        try store.checkpoint(a.lease, stage: .probe, startedAt: clock.now())
        clock.advance(by: 2)
        try store.checkpoint(a.lease, stage: .frames, startedAt: clock.now().addingTimeInterval(-2))
        try store.complete(a.lease)
        let b = try #require(try store.claim(owner: "w"))
        try store.fail(b.lease, stage: .audio, message: "no audio stream decoder")
        clock.advance(by: 58)
        try store.finishRun(run, counts: RunCounts(discovered: 3, enqueued: 3, succeeded: 1, failed: 1))

        let s = try store.summary()
        #expect(s.counts == [.succeeded: 1, .failed: 1, .queued: 1])
        #expect(s.runs.count == 1)
        #expect(s.runs[0].command == "recap run /media")
        #expect(s.runs[0].pid == Int(ProcessInfo.processInfo.processIdentifier))
        #expect(s.runs[0].endedAt == clock.now())
        #expect(s.runs[0].counts.succeeded == 1)
        #expect(s.failures.map(\.message) == ["no audio stream decoder"])
        #expect(s.failures.first?.stage == .audio)
        #expect(s.throughput.succeededLastHour == 1)
        #expect(s.throughput.lastRunJobsPerMinute == 1)
        #expect(s.throughput.meanStageSeconds[.frames] == 2)
    }

    @Test func heartbeatKeepsALeaseAliveAndReportsCancellation() async throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try JobStore(path: dir.file("store.sqlite"), options: .init(leaseDuration: 0.3))
        let id = try store.enqueue(request(1)).jobID
        let c = try #require(try store.claim(owner: "w"))
        // The body outlives the lease several times over; the heartbeat keeps it ours.
        let value = try await store.withHeartbeat(c.lease) {
            try await Task.sleep(nanoseconds: 900_000_000)
            return 42
        }
        #expect(value == 42)
        #expect(try store.claim(owner: "other") == nil)
        try store.complete(c.lease)

        try store.retry(ids: [])  // nothing to do
        let id2 = try store.enqueue(request(2)).jobID
        let c2 = try #require(try store.claim(owner: "w"))
        do {
            _ = try await store.withHeartbeat(c2.lease) {
                try store.cancel(id2)
                try await Task.sleep(nanoseconds: 5_000_000_000)
                return 0
            }
            Issue.record("a cancelled job kept running")
        } catch let error as StoreError {
            #expect(error == .leaseLost(jobID: id2, detail: "the job was cancelled"))
        }
        #expect(try store.job(id)?.state == .succeeded)
    }

    @Test func aDegradedJobKeepsItsOutputsAndIsAskedAgainByTheNextRunOrAfterItsBackoff() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)
        let id = try store.enqueue(request(1)).jobID
        let first = try #require(try store.claim(owner: "a"))
        for stage in [Stage.probe, .transcribe, .summarize, .write] { try store.checkpoint(first.lease, stage: stage, value: [1]) }
        try store.complete(first.lease, result: Data(#"["/out/clip.recap.json"]"#.utf8), degraded: "HTTP 500 on every summary", redo: [.summarize, .write])

        let job = try #require(try store.job(id))
        #expect(job.state == .degraded && job.state.hasOutputs && !job.state.isTerminal)
        #expect(job.lastError == "HTTP 500 on every summary" && job.leaseOwner == nil && job.attempts == 0)
        #expect(job.result == Data(#"["/out/clip.recap.json"]"#.utf8))
        #expect(Set(try store.checkpoints(jobID: id).keys) == [.probe, .transcribe], "the model's stages are redone, the rest is kept")
        #expect(try store.counts()[.degraded] == 1)
        // A late write from the finished lease is refused (the fencing token is gone).
        #expect(throws: StoreError.self) { try store.checkpoint(first.lease, stage: .summarize, value: [2]) }

        // A worker waiting for any job does not spin on it: only after the backoff.
        #expect(try store.claim(owner: "worker") == nil)
        // A new run over the same file asks again at once.
        #expect(RescanItem(path: "/x", change: .unchanged, jobID: id, state: .degraded, created: false).needsWork)
        let again = try #require(try store.claim(jobID: id, owner: "run-2"))
        #expect(again.firstUnfinished() == .frames && again.checkpoints[.summarize] == nil && again.checkpoints[.transcribe] != nil)
        try store.complete(again.lease, result: Data(#"["/out/clip.recap.json"]"#.utf8))
        #expect(try store.job(id)?.state == .succeeded)

        // Degraded again, then the backoff elapses: a worker's claim takes it.
        let id2 = try store.enqueue(request(2)).jobID
        let l2 = try #require(try store.claim(jobID: id2, owner: "a")).lease
        try store.complete(l2, result: nil, degraded: "no usable answer", redo: [.summarize])
        #expect(try store.claim(owner: "worker") == nil)
        clock.advance(by: 11)
        #expect(try store.claim(owner: "worker")?.job.id == id2)
    }
}
