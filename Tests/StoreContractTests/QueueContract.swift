import Foundation
import Store
import Testing
import ThrowawayPostgres

/// The job queue's contract, written once and run against every ``Backend``: the SQLite store in a temp
/// folder, and PostgreSQL on a throwaway cluster (TestCluster). Times are real (short leases and backoffs),
/// because PostgreSQL's clock is the database's and cannot be faked.
@Suite struct QueueContract {
    @Test(arguments: Backend.allCases)
    func enqueueIsIdempotentByFingerprintAndIdentity(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let first = try await q.enqueue([request(1)])[0]
            #expect(first.created)
            #expect(first.state == .queued)
            let again = try await q.enqueue([EnqueueRequest(fingerprint: "fp-1", path: "/moved/clip.mp4", identity: identity)])[0]
            #expect(!again.created)
            #expect(again.jobID == first.jobID)
            #expect(try await q.job(first.jobID)?.path == "/moved/clip.mp4")  // the job follows the file

            var newModel = identity
            newModel.engine = "local:test-model@2"
            let other = try await q.enqueue([
                EnqueueRequest(fingerprint: "fp-1", path: "/a.mp4", identity: newModel), request(2), request(2),
            ])
            #expect(other.map(\.created) == [true, true, false])
            #expect(other[1].jobID == other[2].jobID)
            #expect(try await q.counts(identity: nil) == [.queued: 3])
            #expect(try await q.counts(identity: newModel) == [.queued: 1])
        }
    }

    /// A rescan enqueues a whole tree at once: new files, known ones (some moved), copies of one content, two
    /// pipelines. Every request gets its answer, in order, as if they had been enqueued one by one.
    @Test(arguments: Backend.allCases)
    func aMixedBatchIsAnsweredInOrderAsOneByOne(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let known = try await q.enqueue([request(1), request(2)]).map(\.jobID)
            let claimed = try #require(try await q.claim(jobID: known[1], owner: "w", leaseDuration: 30))
            var other = identity
            other.pipeline = "captions"
            let batch = [
                request(3),
                EnqueueRequest(fingerprint: "fp-1", path: "/moved/one.mp4", identity: identity),
                EnqueueRequest(fingerprint: "fp-3", path: "/copy/three.mp4", identity: identity),
                request(2),
                request(3, identity: other),
                EnqueueRequest(fingerprint: "fp-3", path: "/last/three.mp4", identity: identity),
            ]
            let results = try await q.enqueue(batch)
            #expect(results.count == batch.count)
            #expect(results.map(\.created) == [true, false, false, false, true, false])
            #expect(results[1].jobID == known[0] && results[3].jobID == known[1])
            #expect(results[2].jobID == results[0].jobID && results[5].jobID == results[0].jobID && results[4].jobID != results[0].jobID)
            #expect(results[3].state == .running && results[0].state == .queued)
            #expect(try await q.job(known[0])?.path == "/moved/one.mp4")  // the job follows the file
            #expect(try await q.job(results[0].jobID)?.path == "/last/three.mp4")  // the last place listed wins
            #expect(try await q.job(known[1])?.path == request(2).path)
            try await q.save(claimed.lease, .probe)  // a running job's lease is untouched
            #expect(try await q.counts(identity: nil) == [.queued: 3, .running: 1])
        }
    }

    @Test(arguments: Backend.allCases)
    func claimTakesTheOldestReadyJobOfItsIdentity(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            var other = identity
            other.pipeline = "other"
            let ids = try await q.enqueue([request(1), request(2, identity: other), request(3)]).map(\.jobID)
            let a = try #require(try await q.claimNext("a", identity: identity))
            let b = try #require(try await q.claimNext("b", identity: identity))
            #expect([a.job.id, b.job.id] == [ids[0], ids[2]])
            #expect(try await q.claimNext("c", identity: identity) == nil)
            let c = try #require(try await q.claimNext("c"))  // no filter: the other pipeline's job
            #expect(c.job.id == ids[1])
            #expect(c.job.state == .running)
            #expect(c.lease.attempt == 1)
            #expect(c.job.leaseOwner == "c")
            #expect(try await q.claimNext("d") == nil)
            #expect(try await q.claim(jobID: ids[0], owner: "d", leaseDuration: nil) == nil)  // leased elsewhere
        }
    }

    @Test(arguments: Backend.allCases)
    func anExpiredLeaseIsResumedAtItsCheckpoints(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 10) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let a = try #require(try await q.claimNext("a", lease: 0.5 * timeScale))
            try await q.save(a.lease, .probe, #"{"duration":12.5}"#)
            try await q.save(a.lease, .frames)
            #expect(try await q.claimNext("b") == nil)  // not yet expired
            try await sleep(seconds: 0.8 * timeScale)

            let b = try #require(try await q.claimNext("b"))
            #expect(b.job.id == id)
            #expect(b.lease.attempt == 2)
            #expect(Set(b.checkpoints.keys) == [.probe, .frames])
            #expect(b.checkpoints[.probe]?.result == Data(#"{"duration":12.5}"#.utf8))
            #expect(b.firstUnfinished() == .audio)
            let attempts = try await q.attempts(jobID: id)
            #expect(attempts.map(\.outcome) == [.expired, .running])
            #expect(attempts.first?.stage == .audio)  // where the dead worker most likely was
            #expect(try await q.job(id)?.lastError?.contains("expired") == true)
        }
    }

    @Test(arguments: Backend.allCases)
    func aLateWriteWithAStaleTokenIsRejected(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 10) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let a = try #require(try await q.claimNext("a", lease: 0.3 * timeScale))
            try await sleep(seconds: 0.6 * timeScale)
            let b = try #require(try await q.claimNext("b"))
            // "a" wakes up (GC pause, SIGSTOP) and writes: every write is fenced.
            #expect(await isLeaseLost { try await q.save(a.lease, .probe, "stale") })
            #expect(await isLeaseLost { try await q.heartbeat(a.lease) })
            #expect(await isLeaseLost { try await q.finish(a.lease, "stale") })
            #expect(await isLeaseLost { try await q.fail(a.lease, stage: .probe, message: "x", retryable: true) })
            #expect(await isLeaseLost { try await q.complete(a.lease, result: nil, degraded: "x", redo: [.probe]) })
            try await q.release(a.lease)  // a lost lease releases nothing
            #expect(try await q.job(id)?.leaseOwner == "b")
            #expect(try await q.checkpoints(jobID: id).isEmpty)

            try await q.save(b.lease, .probe, "fresh")
            try await q.finish(b.lease, "done by b")
            let job = try #require(try await q.job(id))
            #expect(job.state == .succeeded)
            #expect(job.result == Data("done by b".utf8))
            #expect(job.leaseOwner == nil)
            #expect(await isLeaseLost { try await q.finish(b.lease) })  // only once
        }
    }

    @Test(arguments: Backend.allCases)
    func failuresBackOffThenGoDead(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let first = try #require(try await q.claimNext("a"))
            #expect(try await q.fail(first.lease, stage: .transcribe, message: "engine down", retryable: true) == .failed)
            let failed = try #require(try await q.job(id))
            #expect(failed.lastError == "engine down")
            #expect(failed.finishedAt == nil)
            #expect(try await q.claimNext("a") == nil)  // backing off 0.5 s
            #expect(try await q.claim(jobID: id, owner: "a", leaseDuration: nil) == nil)
            try await sleep(seconds: 0.7 * timeScale)
            let second = try #require(try await q.claimNext("a"))
            #expect(second.lease.attempt == 2)
            #expect(try await q.fail(second.lease, stage: .transcribe, message: "again", retryable: true) == .failed)
            try await sleep(seconds: 0.5 * timeScale)
            #expect(try await q.claimNext("a") == nil)  // the second backoff is 1 s
            try await sleep(seconds: 0.7 * timeScale)
            let third = try #require(try await q.claimNext("a"))
            #expect(try await q.fail(third.lease, stage: .summarize, message: "last", retryable: true) == .dead)
            let dead = try #require(try await q.job(id))
            #expect(dead.state == .dead)
            #expect(dead.finishedAt != nil)
            #expect(try await q.claimNext("a") == nil)
            let attempts = try await q.attempts(jobID: id)
            #expect(attempts.map(\.outcome) == [.failed, .failed, .failed])
            #expect(attempts.map(\.stage) == [.transcribe, .transcribe, .summarize])

            let other = try await q.enqueue([request(2)])[0].jobID
            let lease = try #require(try await q.claim(jobID: other, owner: "a", leaseDuration: nil)).lease
            #expect(try await q.fail(lease, stage: nil, message: "not a video", retryable: false) == .dead)
        }
    }

    @Test(arguments: Backend.allCases)
    func anExpiredLeaseOnTheLastAttemptGoesDead(_ backend: Backend) async throws {
        try await withQueue(backend, retry: RetryPolicy(maxAttempts: 1, baseDelay: 0.1 * timeScale, jitter: 0)) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            _ = try #require(try await q.claimNext("crashes", lease: 0.3 * timeScale))
            try await sleep(seconds: 0.6 * timeScale)
            #expect(try await q.claimNext("b") == nil)  // the file that crashes workers is not claimed again
            #expect(try await q.job(id)?.state == .dead)
            #expect(try await q.attempts(jobID: id).map(\.outcome) == [.expired])
        }
    }

    @Test(arguments: Backend.allCases)
    func releaseGivesTheJobBackWithoutCountingTheAttempt(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let a = try #require(try await q.claimNext("a"))
            try await q.save(a.lease, .probe)
            try await q.release(a.lease)
            let job = try #require(try await q.job(id))
            #expect(job.state == .queued)
            #expect(job.attempts == 0)
            #expect(job.leaseOwner == nil)
            let b = try #require(try await q.claimNext("b"))
            #expect(b.lease.attempt == 1)
            #expect(b.firstUnfinished() == .frames)
            #expect(try await q.attempts(jobID: id).map(\.outcome) == [.released, .running])
        }
    }

    @Test(arguments: Backend.allCases)
    func cancelStopsAJobAndVoidsItsLease(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let ids = try await q.enqueue([request(1), request(2)]).map(\.jobID)
            let a = try #require(try await q.claimNext("a"))
            try await q.cancel(a.job.id)
            #expect(await isLeaseLost { try await q.save(a.lease, .probe) })
            #expect(try await q.job(a.job.id)?.state == .cancelled)
            #expect(try await q.attempts(jobID: a.job.id).map(\.outcome) == [.cancelled])
            try await q.cancel(ids[1])  // a queued job too
            #expect(try await q.claimNext("b") == nil)
            await #expect(throws: StoreError.self) { try await q.cancel(ids[1]) }  // already cancelled
            await #expect(throws: StoreError.self) { try await q.cancel(999_999) }
        }
    }

    @Test(arguments: Backend.allCases)
    func retryRevivesFailedDeadAndCancelledJobsKeepingCheckpoints(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let ids = try await q.enqueue([request(1), request(2), request(3)]).map(\.jobID)
            let a = try #require(try await q.claim(jobID: ids[0], owner: "a", leaseDuration: nil))
            try await q.save(a.lease, .probe)
            _ = try await q.fail(a.lease, stage: .frames, message: "bad", retryable: false)  // dead
            try await q.cancel(ids[1])
            await #expect(throws: StoreError.self) { try await q.retry(ids: [ids[2]], states: []) }  // queued: nothing to retry

            #expect(try await q.retry(ids: [], states: [.failed, .dead]) == 1)  // the default states leave cancelled alone
            #expect(try await q.job(ids[1])?.state == .cancelled)
            #expect(try await q.retry(ids: [ids[1]], states: []) == 1)
            let revived = try #require(try await q.job(ids[0]))
            #expect(revived.state == .queued)
            #expect(revived.attempts == 0)
            #expect(revived.finishedAt == nil)
            let again = try #require(try await q.claim(jobID: ids[0], owner: "b", leaseDuration: nil))
            #expect(again.firstUnfinished() == .frames)
            #expect(try await q.counts(identity: nil) == [.queued: 2, .running: 1])
        }
    }

    @Test(arguments: Backend.allCases)
    func aDegradedJobIsRedoneFromItsRedoStages(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let a = try #require(try await q.claimNext("a"))
            for stage in [Stage.probe, .transcribe, .summarize, .write] { try await q.save(a.lease, stage) }
            try await q.complete(a.lease, result: Data("partial".utf8), degraded: "no usable answer from the model", redo: [.summarize, .write])
            let job = try #require(try await q.job(id))
            #expect(job.state == .degraded)
            #expect(!job.state.isTerminal)
            #expect(job.lastError == "no usable answer from the model")
            #expect(job.result == Data("partial".utf8))
            #expect(job.attempts == 0)
            #expect(job.finishedAt != nil)
            #expect(job.leaseOwner == nil)
            #expect(job.notBefore > job.updatedAt)  // a worker waits out the first backoff
            #expect(Set(try await q.checkpoints(jobID: id).keys) == [.probe, .transcribe])
            #expect(try await q.attempts(jobID: id).map(\.outcome) == [.succeeded])
            #expect(try await q.retry(ids: [], states: [.failed, .dead]) == 0)

            #expect(try await q.claimNext("worker") == nil)  // backing off
            let run = try #require(try await q.claim(jobID: id, owner: "next run", leaseDuration: nil))  // a new run: at once
            #expect(run.lease.attempt == 1)
            #expect(run.firstUnfinished(of: [.probe, .transcribe, .summarize, .write]) == .summarize)
            try await q.complete(run.lease, result: nil, degraded: "still nothing", redo: [.summarize])

            try await sleep(seconds: 0.7 * timeScale)  // the backoff is over: any worker takes it
            let worker = try #require(try await q.claimNext("worker"))
            #expect(worker.job.id == id)
            try await q.finish(worker.lease, "full")
            #expect(try await q.job(id)?.state == .succeeded)
        }
    }
}
