import Foundation
import GRDB

/// Claim, heartbeat, checkpoint, complete, fail, release: the worker's side of the state machine.
/// Every write after the claim checks the lease token inside its own transaction, so a process that
/// lost its lease can never overwrite the work of the process that took over.
extension JobStore {
    /// Atomically claims the next job ready to run, or returns nil when none is.
    ///
    /// Jobs whose lease expired (their process died) come first, resuming at their checkpoints;
    /// such an expiry is recorded as a failed attempt, and a job out of attempts goes dead instead
    /// of being claimed again, so a file that crashes the worker cannot block the others.
    /// Then queued jobs, and failed or degraded jobs whose backoff has elapsed, oldest first.
    ///
    /// - Parameters:
    ///   - owner: this process's name (``makeOwner(_:)``), shown in `recap jobs show`.
    ///   - identity: only claim jobs of this pipeline/engine (the pipeline can only run its own).
    ///   - leaseDuration: overrides ``Options/leaseDuration``.
    public func claim(owner: String, identity: JobIdentity? = nil, leaseDuration: TimeInterval? = nil) throws -> ClaimedJob? {
        let ttl = leaseDuration ?? options.leaseDuration
        return try write { db in
            let now = now()
            let filter = identity == nil ? "" : " AND pipeline = ? AND pipelineVersion = ? AND engine = ?"
            let filterArgs: StatementArguments = identity.map { [$0.pipeline, $0.pipelineVersion, $0.engine] } ?? []
            while let expired = try Job.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM jobs INDEXED BY jobs_leases WHERE state = 'running' AND leaseExpiresAt <= ?\(filter) ORDER BY leaseExpiresAt LIMIT 1"),
                arguments: [now] + filterArgs)
            {
                let stage = try nextStage(db, jobID: expired.id)
                let message = "lease of \(expired.leaseOwner ?? "?") expired; the process probably crashed or was killed"
                try closeOpenAttempts(db, jobID: expired.id, now: now, outcome: .expired, stage: stage, message: message)
                if expired.attempts >= expired.maxAttempts {
                    try db.execute(
                        sql: """
                            UPDATE jobs SET state = 'dead', leaseOwner = NULL, leaseToken = NULL, leaseExpiresAt = NULL,
                              updatedAt = ?, finishedAt = ?, lastError = ? WHERE id = ?
                            """, arguments: [now, now, message, expired.id])
                    continue
                }
                return try take(db, expired, owner: owner, ttl: ttl, now: now)
            }
            guard let ready = try Job.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM jobs INDEXED BY jobs_ready WHERE state IN ('queued','failed','degraded') AND notBefore <= ?\(filter) ORDER BY notBefore, id LIMIT 1"),
                arguments: [now] + filterArgs)
            else { return nil }
            return try take(db, ready, owner: owner, ttl: ttl, now: now)
        }
    }

    /// Claims one specific job if it is ready (queued, failed past its backoff, degraded, or running with an
    /// expired lease). Returns nil if it is running elsewhere, finished, dead, cancelled or backing off.
    public func claim(jobID: Int64, owner: String, leaseDuration: TimeInterval? = nil) throws -> ClaimedJob? {
        let ttl = leaseDuration ?? options.leaseDuration
        return try write { db in
            let now = now()
            guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [jobID]) else {
                throw StoreError.jobNotFound(jobID: jobID)
            }
            switch job.state {
            case .queued, .failed:
                guard job.notBefore.timeIntervalSince1970 <= now else { return nil }
            case .degraded:
                break  // a new run asks again at once: the engine may answer now
            case .running:
                // A lease runs out after its time, or at once when its owner is a process of this host that is
                // gone (killed, crashed, or stopped by a full disk before it could give the job back).
                let expired = job.leaseExpiresAt.map { $0.timeIntervalSince1970 <= now } ?? true
                let ownerGone = job.leaseOwner.map(Self.ownerHasStopped) ?? false
                guard expired || ownerGone else { return nil }
                let stage = try nextStage(db, jobID: job.id)
                let message = expired
                    ? "lease of \(job.leaseOwner ?? "?") expired; the process probably crashed or was killed"
                    : "left by \(job.leaseOwner ?? "?"), a run on this host that stopped without giving it back"
                try closeOpenAttempts(db, jobID: job.id, now: now, outcome: .expired, stage: stage, message: message)
                if job.attempts >= job.maxAttempts {
                    try db.execute(
                        sql: """
                            UPDATE jobs SET state = 'dead', leaseOwner = NULL, leaseToken = NULL, leaseExpiresAt = NULL,
                              updatedAt = ?, finishedAt = ?, lastError = ? WHERE id = ?
                            """, arguments: [now, now, message, job.id])
                    return nil
                }
            case .succeeded, .dead, .cancelled:
                return nil
            }
            return try take(db, job, owner: owner, ttl: ttl, now: now)
        }
    }

    private func take(_ db: Database, _ job: Job, owner: String, ttl: TimeInterval, now: Double) throws -> ClaimedJob {
        let token = Int64.random(in: 1...Int64.max)
        let attempt = job.attempts + 1
        try db.cachedStatement(sql: """
            UPDATE jobs SET state = 'running', attempts = ?, leaseOwner = ?, leaseToken = ?, leaseExpiresAt = ?,
              updatedAt = ? WHERE id = ?
            """).execute(arguments: [attempt, owner, token, now + ttl, now, job.id])
        try db.cachedStatement(sql: """
            INSERT INTO attempts (jobId, number, owner, startedAt, outcome) VALUES (?, ?, ?, ?, 'running')
            """).execute(arguments: [job.id, attempt, owner, now])
        let attemptID = db.lastInsertedRowID
        let checkpoints = try Checkpoint.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM stages WHERE jobId = ?"), arguments: [job.id])
        var claimed = job
        claimed.state = .running
        claimed.attempts = attempt
        claimed.leaseOwner = owner
        claimed.leaseExpiresAt = Date(timeIntervalSince1970: now + ttl)
        claimed.updatedAt = Date(timeIntervalSince1970: now)
        let lease = Lease(
            jobID: job.id, owner: owner, token: token, attemptID: attemptID, attempt: attempt,
            expiresAt: Date(timeIntervalSince1970: now + ttl), duration: ttl)
        return ClaimedJob(
            lease: lease, job: claimed,
            checkpoints: Dictionary(checkpoints.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Extends the lease by its duration from now. Throws `leaseLost` if it was taken over or cancelled.
    @discardableResult
    public func heartbeat(_ lease: Lease) throws -> Lease {
        try writeStatement { db in
            let now = now()
            try db.cachedStatement(sql: """
                UPDATE jobs SET leaseExpiresAt = ?, updatedAt = ? WHERE id = ? AND leaseToken = ? AND state = 'running'
                """).execute(arguments: [now + lease.duration, now, lease.jobID, lease.token])
            guard db.changesCount == 1 else { throw try lostError(db, lease) }
            var extended = lease
            extended.expiresAt = Date(timeIntervalSince1970: now + lease.duration)
            return extended
        }
    }

    /// Saves a finished stage's result (JSON and/or a file reference), if the lease is still ours.
    /// Saving the same stage again replaces it (a re-run after a crash between work and checkpoint).
    public func checkpoint(_ lease: Lease, stage: Stage, result: Data? = nil, fileRef: String? = nil, startedAt: Date? = nil) throws {
        // One statement, guard included: atomic on its own, and the hottest write of a run.
        try writeStatement { db in
            let now = now()
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO stages (jobId, stage, result, fileRef, startedAt, finishedAt, attempt)
                SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS
                  (SELECT 1 FROM jobs WHERE id = ? AND leaseToken = ? AND state = 'running')
                """).execute(arguments: [
                    lease.jobID, stage.rawValue, result.map { String(decoding: $0, as: UTF8.self) }, fileRef,
                    startedAt?.timeIntervalSince1970 ?? now, now, lease.attempt, lease.jobID, lease.token,
                ])
            guard db.changesCount == 1 else { throw try lostError(db, lease) }
        }
    }

    /// Encodes `value` as JSON and checkpoints it.
    public func checkpoint<T: Encodable>(_ lease: Lease, stage: Stage, value: T, fileRef: String? = nil, startedAt: Date? = nil) throws {
        try checkpoint(lease, stage: stage, result: try Checkpoint.encode(value), fileRef: fileRef, startedAt: startedAt)
    }

    /// Marks the job succeeded and releases the lease, if it is still ours.
    public func complete(_ lease: Lease, result: Data? = nil) throws {
        try write { db in
            let now = now()
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = 'succeeded', leaseOwner = NULL, leaseToken = NULL, leaseExpiresAt = NULL,
                  updatedAt = ?, finishedAt = ?, result = ?, lastError = NULL
                WHERE id = ? AND leaseToken = ? AND state = 'running'
                """).execute(arguments: [now, now, result.map { String(decoding: $0, as: UTF8.self) }, lease.jobID, lease.token])
            guard db.changesCount == 1 else { throw try lostError(db, lease) }
            try db.cachedStatement(sql: "UPDATE attempts SET endedAt = ?, outcome = 'succeeded' WHERE id = ?")
                .execute(arguments: [now, lease.attemptID])
        }
    }

    /// Completes a job whose outputs were written without the model's part (it never gave a usable answer):
    /// the job is `degraded`, its `redo` stages lose their checkpoints so the next claim runs them again, and
    /// the rest (probe, frames, transcript) stays. `reason` is kept as its last error. A new run claims it at
    /// once (``claim(jobID:owner:leaseDuration:)``); a worker's ``claim(owner:identity:leaseDuration:)`` waits
    /// for the retry backoff, so a broken engine is not asked in a loop.
    public func complete(_ lease: Lease, result: Data?, degraded reason: String, redo: [Stage]) throws {
        try write { db in
            let now = now()
            try db.cachedStatement(sql: """
                UPDATE jobs SET state = 'degraded', attempts = 0, notBefore = ?, leaseOwner = NULL, leaseToken = NULL,
                  leaseExpiresAt = NULL, updatedAt = ?, finishedAt = ?, result = ?, lastError = ?
                WHERE id = ? AND leaseToken = ? AND state = 'running'
                """).execute(arguments: [now + options.retryPolicy.delay(afterAttempt: 1), now, now,
                                         result.map { String(decoding: $0, as: UTF8.self) }, reason, lease.jobID, lease.token])
            guard db.changesCount == 1 else { throw try lostError(db, lease) }
            for stage in redo {
                try db.execute(sql: "DELETE FROM stages WHERE jobId = ? AND stage = ?", arguments: [lease.jobID, stage.rawValue])
            }
            try db.cachedStatement(sql: "UPDATE attempts SET endedAt = ?, outcome = 'succeeded', message = ? WHERE id = ?")
                .execute(arguments: [now, "degraded: \(reason)", lease.attemptID])
        }
    }

    /// Records the attempt's error and either schedules a retry (exponential backoff with jitter)
    /// or, when attempts are used up or `retryable` is false, moves the job to `dead`.
    /// Returns the job's new state.
    @discardableResult
    public func fail(_ lease: Lease, stage: Stage?, message: String, retryable: Bool = true) throws -> JobState {
        try write { db in
            let now = now()
            guard let job = try Job.fetchOne(
                db, sql: "SELECT * FROM jobs WHERE id = ? AND leaseToken = ? AND state = 'running'",
                arguments: [lease.jobID, lease.token])
            else { throw try lostError(db, lease) }
            let retry = retryable && job.attempts < job.maxAttempts
            let state: JobState = retry ? .failed : .dead
            let notBefore = retry ? now + options.retryPolicy.delay(afterAttempt: job.attempts) : now
            try db.execute(
                sql: """
                    UPDATE jobs SET state = ?, notBefore = ?, leaseOwner = NULL, leaseToken = NULL, leaseExpiresAt = NULL,
                      updatedAt = ?, finishedAt = ?, lastError = ? WHERE id = ?
                    """,
                arguments: [state.rawValue, notBefore, now, retry ? nil : now, message, lease.jobID])
            try db.execute(
                sql: "UPDATE attempts SET endedAt = ?, outcome = 'failed', stage = ?, message = ? WHERE id = ?",
                arguments: [now, stage?.rawValue, message, lease.attemptID])
            return state
        }
    }

    /// Gives the job back without counting the attempt (Ctrl-C, shutdown): it is queued again and
    /// keeps its checkpoints. Does nothing if the lease was already lost.
    public func release(_ lease: Lease) throws {
        try write { db in
            let now = now()
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'queued', attempts = MAX(0, attempts - 1), notBefore = ?, leaseOwner = NULL,
                      leaseToken = NULL, leaseExpiresAt = NULL, updatedAt = ? WHERE id = ? AND leaseToken = ? AND state = 'running'
                    """, arguments: [now, now, lease.jobID, lease.token])
            if db.changesCount == 1 {
                try db.execute(
                    sql: "UPDATE attempts SET endedAt = ?, outcome = 'released', message = 'released by its owner' WHERE id = ?",
                    arguments: [now, lease.attemptID])
            }
        }
    }

    /// Throws `leaseLost` unless `lease` still owns its job.
    public func requireLease(_ lease: Lease) throws {
        try read { db in try requireLease(db, lease) }
    }

    /// Runs `body` while a child task heartbeats the lease every third of its duration. If the lease
    /// is lost, `body` is cancelled and `leaseLost` is thrown (``JobQueue/withLeaseHeartbeat(_:every:_:)``).
    public func withHeartbeat<T: Sendable>(
        _ lease: Lease, every interval: TimeInterval? = nil, _ body: @Sendable @escaping () async throws -> T
    ) async throws -> T {
        try await withLeaseHeartbeat(lease, every: interval, body)
    }

    // MARK: - Helpers

    func requireLease(_ db: Database, _ lease: Lease) throws {
        let owned = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM jobs WHERE id = ? AND leaseToken = ? AND state = 'running'"),
            arguments: [lease.jobID, lease.token]) ?? false
        if !owned { throw try lostError(db, lease) }
    }

    func lostError(_ db: Database, _ lease: Lease) throws -> StoreError {
        guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [lease.jobID]) else {
            return .jobNotFound(jobID: lease.jobID)
        }
        return .leaseLost(jobID: job.id, state: job.state, owner: job.leaseOwner)
    }

    func closeOpenAttempts(_ db: Database, jobID: Int64, now: Double, outcome: AttemptOutcome, stage: Stage?, message: String) throws {
        try db.execute(
            sql: "UPDATE attempts SET endedAt = ?, outcome = ?, stage = ?, message = ? WHERE jobId = ? AND outcome = 'running'",
            arguments: [now, outcome.rawValue, stage?.rawValue, message, jobID])
        try db.execute(sql: "UPDATE jobs SET lastError = ? WHERE id = ?", arguments: [message, jobID])
    }

    /// The first standard stage without a checkpoint: where a dead process most likely was.
    func nextStage(_ db: Database, jobID: Int64) throws -> Stage? {
        let done = Set(try String.fetchAll(db, sql: "SELECT stage FROM stages WHERE jobId = ?", arguments: [jobID]))
        return Stage.standard.first { !done.contains($0.rawValue) }
    }
}

extension JobStore {
    /// Whether `owner` (``makeOwner(_:)``: `label@host:pid:nonce`) names a process of this host that no longer
    /// exists. Owners on other hosts, and live processes (even another program that reused the pid), are
    /// not judged: their leases run out by time.
    static func ownerHasStopped(_ owner: String) -> Bool {
        guard let at = owner.lastIndex(of: "@") else { return false }
        let parts = owner[owner.index(after: at)...].split(separator: ":")
        guard parts.count >= 3, String(parts[parts.count - 3]) == hostName(), let pid = Int32(parts[parts.count - 2]),
              pid > 0, pid != getpid() else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}
