import Foundation
import GRDB

/// The operator's side: looking at jobs, retrying and cancelling them (`recap jobs`, `recap status`).
extension JobStore {
    public func job(_ id: Int64) throws -> Job? {
        try read { db in try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) }
    }

    /// A finished job's outputs moved with its file: the new path and the outputs now written for it. Only a
    /// succeeded job is touched (a job that is running again keeps what its new attempt will write).
    @discardableResult
    public func recordOutputs(jobID: Int64, path: String, result: Data) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE jobs SET path = ?, result = ? WHERE id = ? AND state = 'succeeded'",
                           arguments: [path, String(decoding: result, as: UTF8.self), jobID])
            return db.changesCount > 0
        }
    }

    /// Every path rescans have seen with this content (copies, and the old places of moved files).
    public func knownPaths(fingerprint: String) throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT path FROM files WHERE fingerprint = ? ORDER BY path", arguments: [fingerprint]) }
    }

    /// Forgets a path that no longer exists (a moved file's old place), so it is not looked at again.
    public func forget(path: String) throws {
        try write { db in try db.execute(sql: "DELETE FROM files WHERE path = ?", arguments: [path]) }
    }

    /// Re-labels the jobs made under `old` (an earlier release's key for the same work) as `new`, so a
    /// finished file stays finished across the upgrade. A job whose content already has one under `new` keeps
    /// the old label. Returns how many were adopted; 0 (and no write) on every later run.
    @discardableResult
    public func adopt(_ old: JobIdentity, as new: JobIdentity) throws -> Int {
        guard old != new else { return 0 }
        let any = try read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM jobs WHERE pipeline = ? AND pipelineVersion = ? AND engine = ?)",
                              arguments: [old.pipeline, old.pipelineVersion, old.engine]) ?? false
        }
        guard any else { return 0 }
        return try write { db in
            try db.execute(sql: """
                UPDATE OR IGNORE jobs SET pipeline = ?, pipelineVersion = ?, engine = ?
                WHERE pipeline = ? AND pipelineVersion = ? AND engine = ?
                """, arguments: [new.pipeline, new.pipelineVersion, new.engine, old.pipeline, old.pipelineVersion, old.engine])
            return db.changesCount
        }
    }

    /// Jobs, newest activity first, optionally in one state.
    public func jobs(state: JobState? = nil, limit: Int = 100) throws -> [Job] {
        try read { db in
            if let state {
                return try Job.fetchAll(
                    db, sql: "SELECT * FROM jobs WHERE state = ? ORDER BY updatedAt DESC, id DESC LIMIT ?",
                    arguments: [state.rawValue, limit])
            }
            return try Job.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY updatedAt DESC, id DESC LIMIT ?", arguments: [limit])
        }
    }

    public func checkpoints(jobID: Int64) throws -> [Stage: Checkpoint] {
        try read { db in
            let all = try Checkpoint.fetchAll(db, sql: "SELECT * FROM stages WHERE jobId = ?", arguments: [jobID])
            return Dictionary(all.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    public func attempts(jobID: Int64) throws -> [Attempt] {
        try read { db in
            try Attempt.fetchAll(db, sql: "SELECT * FROM attempts WHERE jobId = ? ORDER BY id", arguments: [jobID])
        }
    }

    /// Number of jobs in each state (states with no job are absent).
    public func counts(identity: JobIdentity? = nil) throws -> [JobState: Int] {
        try read { db in
            let rows: [Row]
            if let identity {
                rows = try Row.fetchAll(
                    db, sql: """
                        SELECT state, COUNT(*) AS n FROM jobs WHERE pipeline = ? AND pipelineVersion = ? AND engine = ?
                        GROUP BY state
                        """, arguments: [identity.pipeline, identity.pipelineVersion, identity.engine])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            }
            var counts: [JobState: Int] = [:]
            for row in rows { if let s = JobState(rawValue: row["state"]) { counts[s] = row["n"] } }
            return counts
        }
    }

    /// When the next failed job's backoff ends, if any job is waiting on one. Lets a worker sleep
    /// exactly until there is work instead of polling.
    public func nextRetryDate(identity: JobIdentity? = nil) throws -> Date? {
        try read { db in
            var sql = "SELECT MIN(notBefore) FROM jobs WHERE state IN ('queued','failed','degraded')"
            var args: StatementArguments = []
            if let identity {
                sql += " AND pipeline = ? AND pipelineVersion = ? AND engine = ?"
                args = [identity.pipeline, identity.pipelineVersion, identity.engine]
            }
            return try Double.fetchOne(db, sql: sql, arguments: args).map(Date.init(timeIntervalSince1970:))
        }
    }

    /// Puts failed, dead or cancelled jobs back in the queue with fresh attempts. Their checkpoints
    /// are kept, so they resume where they stopped. `ids` empty = every job in `states`.
    /// Returns how many jobs were revived. A named job in another state is an error.
    @discardableResult
    public func retry(ids: [Int64] = [], states: Set<JobState> = [.failed, .dead]) throws -> Int {
        try write { db in
            let now = now()
            if ids.isEmpty {
                let allowed = states.intersection([.failed, .dead, .cancelled, .degraded]).map(\.rawValue)
                guard !allowed.isEmpty else { return 0 }
                let marks = allowed.map { _ in "?" }.joined(separator: ",")
                try db.execute(
                    sql: "UPDATE jobs SET state = 'queued', attempts = 0, notBefore = ?, updatedAt = ?, finishedAt = NULL WHERE state IN (\(marks))",
                    arguments: StatementArguments([now, now] + allowed))
                return db.changesCount
            }
            var revived = 0
            for id in ids {
                guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else {
                    throw StoreError.jobNotFound(jobID: id)
                }
                guard [.failed, .dead, .cancelled, .degraded].contains(job.state) else {
                    throw StoreError.invalidTransition(jobID: id, from: job.state, action: "retried (only failed, dead, cancelled or degraded jobs can be)")
                }
                try db.execute(
                    sql: "UPDATE jobs SET state = 'queued', attempts = 0, notBefore = ?, updatedAt = ?, finishedAt = NULL WHERE id = ?",
                    arguments: [now, now, id])
                revived += 1
            }
            return revived
        }
    }

    /// Stops a job: it will not be claimed again until retried. If it is running, its lease is
    /// voided, so the worker's next checkpoint or heartbeat fails with `leaseLost` and it drops the job.
    public func cancel(_ id: Int64) throws {
        try write { db in
            let now = now()
            guard let job = try Job.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) else {
                throw StoreError.jobNotFound(jobID: id)
            }
            guard !job.state.isTerminal else {
                throw StoreError.invalidTransition(jobID: id, from: job.state, action: "cancelled")
            }
            try db.execute(
                sql: """
                    UPDATE jobs SET state = 'cancelled', leaseOwner = NULL, leaseToken = NULL, leaseExpiresAt = NULL,
                      updatedAt = ?, finishedAt = ? WHERE id = ?
                    """, arguments: [now, now, id])
            try db.execute(
                sql: "UPDATE attempts SET endedAt = ?, outcome = 'cancelled', message = 'cancelled by the user' WHERE jobId = ? AND outcome = 'running'",
                arguments: [now, id])
        }
    }

    // MARK: - Runs

    /// Records the start of a run (host and pid of this process). Call ``finishRun(_:counts:)`` at the end.
    public func beginRun(command: String) throws -> Int64 {
        try write { db in
            try db.execute(
                sql: "INSERT INTO runs (command, host, pid, startedAt) VALUES (?, ?, ?, ?)",
                arguments: [command, hostName(), Int(getpid()), now()])
            return db.lastInsertedRowID
        }
    }

    /// Updates a run's counts; with `finished`, also its end time.
    public func finishRun(_ id: Int64, counts: RunCounts, finished: Bool = true) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET discovered = ?, enqueued = ?, succeeded = ?, failed = ?, skipped = ?,
                      endedAt = CASE WHEN ? THEN ? ELSE endedAt END WHERE id = ?
                    """,
                arguments: [counts.discovered, counts.enqueued, counts.succeeded, counts.failed, counts.skipped,
                            finished, now(), id])
        }
    }

    public func runs(limit: Int = 10) throws -> [RunRecord] {
        try read { db in try RunRecord.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC LIMIT ?", arguments: [limit]) }
    }

    // MARK: - Engine calls

    /// Counts calls to the engine (the expensive part) per job and stage. Not lease-guarded on
    /// purpose: a call that happened is counted even if the lease was lost meanwhile, which is
    /// what "no finished stage is computed again" tests need to see.
    public func recordEngineCalls(jobID: Int64, stage: Stage, count: Int = 1) throws {
        try writeStatement { db in
            try db.cachedStatement(sql: """
                INSERT INTO engineCalls (jobId, stage, count) VALUES (?, ?, ?)
                ON CONFLICT (jobId, stage) DO UPDATE SET count = count + excluded.count
                """).execute(arguments: [jobID, stage.rawValue, count])
        }
    }

    /// Engine calls per stage of one job.
    public func engineCalls(jobID: Int64) throws -> [Stage: Int] {
        try read { db in
            var calls: [Stage: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT stage, count FROM engineCalls WHERE jobId = ?", arguments: [jobID]) {
                calls[Stage(rawValue: row["stage"])] = row["count"]
            }
            return calls
        }
    }

    /// Engine calls across the whole store (or one stage): compare before/after a run.
    public func totalEngineCalls(stage: Stage? = nil) throws -> Int {
        try read { db in
            if let stage {
                return try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM engineCalls WHERE stage = ?", arguments: [stage.rawValue]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM engineCalls") ?? 0
        }
    }
}
