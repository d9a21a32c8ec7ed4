import Foundation
import Store
import Testing

/// Concurrency, and the known pitfalls of database queues (issue 15), each named after the bug it guards against.
extension QueueContract {
    @Test(arguments: Backend.allCases)
    func concurrentClaimersNeverClaimOneJobTwice(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 30) { q, _ in
            let total = 400
            try await q.enqueue((0..<total).map { request($0) })
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [Int64] = []
                        while let job = try await q.claimNext("worker-\(worker)") {
                            mine.append(job.job.id)
                            try await q.save(job.lease, .probe)
                            try await q.finish(job.lease)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == total)
            #expect(Set(claimed).count == total, "claimed twice: \(claimed.count - Set(claimed).count)")
            #expect(try await q.counts(identity: nil) == [.succeeded: total])
        }
    }

    /// Oban #1825, River #682/#1258, pg-boss #238: a job rescued by time alone while its worker was only slow
    /// runs twice. A worker that keeps heartbeating keeps its job, however much longer than a lease it takes.
    @Test(arguments: Backend.allCases)
    func aSlowWorkerThatHeartbeatsIsNotRescuedByTime(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 1.5 * timeScale) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let slow = try #require(try await q.claimNext("slow"))
            var lease = slow.lease
            let started = Date()
            var rescued = 0
            while Date().timeIntervalSince(started) < 4 * timeScale {  // well past two lease durations
                try await sleep(seconds: 0.25 * timeScale)
                lease = try await q.heartbeat(lease)
                if try await q.claimNext("rescuer") != nil { rescued += 1 }
            }
            #expect(rescued == 0)
            try await q.finish(lease, "slow but sure")
            #expect(try await q.job(id)?.state == .succeeded)
            #expect(try await q.attempts(jobID: id).map(\.outcome) == [.succeeded])
        }
    }

    /// The same guarantee through the heartbeat helper a worker uses, and its other half: a lease that is lost
    /// (here: cancelled) stops the work with leaseLost instead of letting it write.
    @Test(arguments: Backend.allCases)
    func theHeartbeatHelperKeepsALeaseAndStopsWhenItIsLost(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 0.6 * timeScale) { q, _ in
            let id = try await q.enqueue([request(1)])[0].jobID
            let job = try #require(try await q.claimNext("slow"))
            let value = try await q.withLeaseHeartbeat(job.lease, every: 0.15 * timeScale) {
                try await sleep(seconds: 1.5 * timeScale)  // 2.5 leases
                return 42
            }
            #expect(value == 42)
            #expect(try await q.claimNext("rescuer") == nil)
            try await q.finish(job.lease)

            let other = try await q.enqueue([request(2)])[0].jobID
            let lost = try #require(try await q.claim(jobID: other, owner: "w", leaseDuration: nil))
            try await q.cancel(other)
            let stopped = await isLeaseLost {
                _ = try await q.withLeaseHeartbeat(lost.lease, every: 0.1 * timeScale) { try await sleep(seconds: 30); return 0 }
            }
            #expect(stopped)
            #expect(try await q.job(id)?.state == .succeeded)
        }
    }

    /// River #1302: a rescuer must not overwrite a job that its worker completed just after the lease ran out.
    /// Late completion before a takeover wins; a takeover before the completion fences the worker out. Never both.
    @Test(arguments: Backend.allCases)
    func aRescuerCannotOverwriteAJobThatJustCompleted(_ backend: Backend) async throws {
        try await withQueue(backend, lease: 30) { q, _ in
            // Deterministic case: the lease expired, nobody took over yet, the worker completes late.
            let first = try await q.enqueue([request(0)])[0].jobID
            let late = try #require(try await q.claimNext("late", lease: 0.3 * timeScale))
            try await sleep(seconds: 0.5 * timeScale)
            try await q.finish(late.lease, "late")
            #expect(try await q.claimNext("rescuer") == nil)
            #expect(try await q.job(first)?.result == Data("late".utf8))

            // The race: many expired jobs, their workers completing while a rescuer sweeps.
            let ids = try await q.enqueue((1...40).map { request($0) }).map(\.jobID)
            var leases: [Lease] = []
            // By id: a plain claim would already rescue the first of these leases once they start expiring.
            for id in ids { leases.append(try #require(try await q.claim(jobID: id, owner: "worker", leaseDuration: 0.3 * timeScale)).lease) }
            try await sleep(seconds: 0.5 * timeScale)
            async let workerWins: [Int64] = {
                var won: [Int64] = []
                for lease in leases where !(await isLeaseLost { try await q.finish(lease, "worker") }) { won.append(lease.jobID) }
                return won
            }()
            async let rescuerWins: [Int64] = {
                var won: [Int64] = []
                while let job = try await q.claimNext("rescuer", lease: 30) {
                    if !(await isLeaseLost { try await q.finish(job.lease, "rescuer") }) { won.append(job.job.id) }
                }
                return won
            }()
            let (byWorker, byRescuer) = try await (workerWins, rescuerWins)
            #expect(Set(byWorker).isDisjoint(with: byRescuer), "completed twice: \(Set(byWorker).intersection(byRescuer))")
            #expect(Set(byWorker).union(byRescuer) == Set(ids))
            for id in ids {
                let job = try #require(try await q.job(id))
                #expect(job.state == .succeeded)
                #expect(job.result == Data((byWorker.contains(id) ? "worker" : "rescuer").utf8))
            }
        }
    }

    /// Oban #862: a restarted worker reused its predecessor's id and was mistaken for it. Ids come from the store
    /// and are never handed out twice: not to a restart with the same name and pid, not after pruning, not after
    /// the store is opened again.
    @Test(arguments: Backend.allCases)
    func workerIdsAreUniqueAcrossRestarts(_ backend: Backend) async throws {
        try await withQueue(backend) { q, harness in
            let first = try await q.registerWorker(name: "worker", host: "host-a", pid: 42)
            let restarted = try await q.registerWorker(name: "worker", host: "host-a", pid: 42)
            #expect(first != restarted)
            try await q.workerHeartbeat(restarted, jobsDone: 7, failures: 1)
            let listed = try await q.workers()
            #expect(listed.map(\.id) == [restarted, first])  // last heard from first
            #expect(listed.first?.jobsDone == 7)
            #expect(listed.first?.failures == 1)
            #expect(listed.first.map { $0.lastHeartbeat >= $0.startedAt } == true)

            try await q.pruneFinished(olderThan: -60)  // a horizon in the future forgets every worker
            #expect(try await q.workers().isEmpty)
            let afterPrune = try await q.registerWorker(name: "worker", host: "host-a", pid: 42)
            let reopened = try await harness.reopen()
            let afterReopen = try await reopened.registerWorker(name: "worker", host: "host-a", pid: 42)
            #expect(Set([first, restarted, afterPrune, afterReopen]).count == 4)
            #expect(afterPrune > restarted && afterReopen > afterPrune)
        }
    }

    /// Table bloat from finished jobs: retention deletes old succeeded, dead and cancelled jobs with their
    /// checkpoints and attempts, and never touches work still to do.
    @Test(arguments: Backend.allCases)
    func retentionKeepsFinishedJobsBounded(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let waiting = try await q.enqueue([request(-1)])[0].jobID
            let running = try await q.enqueue([request(-2)])[0].jobID
            let held = try #require(try await q.claim(jobID: running, owner: "busy", leaseDuration: 60))
            var pruned: [Int64] = []
            for round in 0..<5 {
                let ids = try await q.enqueue((0..<10).map { request(round * 10 + $0) }).map(\.jobID)
                for id in ids {
                    let job = try #require(try await q.claim(jobID: id, owner: "w", leaseDuration: nil))
                    try await q.save(job.lease, .probe)
                    if id % 3 == 0 { _ = try await q.fail(job.lease, stage: nil, message: "x", retryable: false) } else { try await q.finish(job.lease) }
                }
                try await sleep(seconds: 0.05)
                #expect(try await q.pruneFinished(olderThan: 0) == 10)
                #expect(try await q.total() == 2)  // bounded: only the unfinished two remain
                pruned += ids
            }
            #expect(try await q.pruneFinished(olderThan: 3600) == 0)  // nothing that recent is old enough
            #expect(try await q.job(waiting)?.state == .queued)
            #expect(try await q.job(running)?.state == .running)
            try await q.save(held.lease, .probe)  // the running job's lease still holds
            for id in pruned.prefix(5) {
                #expect(try await q.job(id) == nil)
                #expect(try await q.checkpoints(jobID: id).isEmpty)
                #expect(try await q.attempts(jobID: id).isEmpty)
            }
        }
    }

    /// What `recap jobs prune` does by default: finished jobs that would only be retried go, succeeded ones
    /// stay (an unchanged file must not be processed again) but lose their saved results and failed attempts.
    @Test(arguments: Backend.allCases)
    func compactingKeepsSucceededJobsAndDropsTheirPayloads(_ backend: Backend) async throws {
        try await withQueue(backend) { q, _ in
            let ids = try await q.enqueue((0..<3).map { request($0) }).map(\.jobID)
            // Job 0 succeeds on its second attempt (the first one's lease ran out); job 1 goes dead; job 2 waits.
            let lost = try #require(try await q.claim(jobID: ids[0], owner: "gone", leaseDuration: 0.05))
            try await q.save(lost.lease, .probe, #"{"duration":12}"#)
            try await sleep(seconds: 0.2)
            let again = try #require(try await q.claim(jobID: ids[0], owner: "w", leaseDuration: 60))
            try await q.save(again.lease, .transcribe, #"{"text":"a long transcript"}"#)
            try await q.finish(again.lease)
            let doomed = try #require(try await q.claim(jobID: ids[1], owner: "w", leaseDuration: 60))
            _ = try await q.fail(doomed.lease, stage: nil, message: "corrupt", retryable: false)
            try await sleep(seconds: 0.05)

            #expect(try await q.compactSucceeded(olderThan: 3600) == 0)  // too recent
            #expect(try await q.compactSucceeded(olderThan: 0) == 1)
            #expect(try await q.compactSucceeded(olderThan: 0) == 0)  // nothing left to drop
            let stages = try await q.checkpoints(jobID: ids[0])
            #expect(Set(stages.keys) == [.probe, .transcribe])  // timings kept
            #expect(stages.values.allSatisfy { $0.result == nil })
            #expect(try await q.attempts(jobID: ids[0]).map(\.outcome) == [.succeeded])
            #expect(try await q.job(ids[0])?.state == .succeeded)

            #expect(try await q.pruneFinished(olderThan: 0, states: [.dead, .cancelled]) == 1)
            #expect(try await q.job(ids[1]) == nil)
            #expect(try await q.job(ids[0])?.state == .succeeded)
            #expect(try await q.job(ids[2])?.state == .queued)
            // The succeeded job is still what the next enqueue of its content finds: no new work.
            #expect(try await q.enqueue([request(0)])[0].created == false)
        }
    }
}
