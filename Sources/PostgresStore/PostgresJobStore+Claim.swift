import Foundation
import PostgresNIO
import Store

/// Claiming: `FOR UPDATE SKIP LOCKED` so concurrent claimers each take a different row without waiting,
/// and every comparison against the database's `now()`.
extension PostgresJobStore {
    /// Jobs whose lease expired come first (resuming at their checkpoints; the expiry counts as a failed
    /// attempt, and a job out of attempts goes dead instead), then ready jobs by `notBefore`, oldest first.
    public func claim(owner: String, identity: JobIdentity?, leaseDuration: TimeInterval?) async throws -> ClaimedJob? {
        let ttl = leaseDuration ?? options.leaseDuration
        return try await claimReady(owner: owner, filter: IdentityFilter(identity), ttl: ttl, expiredFirst: true)
    }

    /// The hot path in one prepared statement (one round trip, HotStatements.swift): unless a lease has expired (then the rescue goes first),
    /// pick the oldest ready job, lease it, open its attempt and return it with its checkpoints.
    private func claimReady(owner: String, filter: IdentityFilter, ttl: TimeInterval, expiredFirst: Bool) async throws -> ClaimedJob? {
        let token = Int64.random(in: 1...Int64.max)
        let rows = try await run(ClaimReadyStatement(expiredFirst: expiredFirst, filter: filter, owner: owner, token: token, ttl: ttl))
        guard let row = rows.first else { return nil }
        let r = row.makeRandomAccess()
        if try r["id"].decode(Int64?.self) != nil { return try claimed(row, owner: owner, token: token, ttl: ttl) }
        guard try r["rescue"].decode(Bool.self) else { return nil }
        if let rescued = try await rescueExpired(owner: owner, filter: filter, ttl: ttl) { return rescued }
        // Another worker rescued it first: the ready jobs are next.
        return try await claimReady(owner: owner, filter: filter, ttl: ttl, expiredFirst: false)
    }

    /// Claims one job if it is ready: queued or failed past its backoff, degraded (whatever its backoff: a new
    /// run asks for it), or running with an expired lease. Nil if running elsewhere, finished, dead or cancelled.
    public func claim(jobID: Int64, owner: String, leaseDuration: TimeInterval?) async throws -> ClaimedJob? {
        let ttl = leaseDuration ?? options.leaseDuration
        let token = Int64.random(in: 1...Int64.max)
        let row: PostgresRow? = try await transaction { [self] db in
            let found = try await db.rows("""
                SELECT state, not_before <= now() AS due, lease_expires_at <= now() AS expired, attempts, max_attempts, lease_owner
                FROM jobs WHERE id = \(jobID) FOR UPDATE
                """, logger)
            guard let job = found.first else { throw StoreError.jobNotFound(jobID: jobID) }
            let (state, due, expired, attempts, maxAttempts, leaseOwner) =
                try job.decode((String, Bool, Bool?, Int64, Int64, String?).self)
            switch JobState(rawValue: state) {
            case .queued?, .failed?:
                guard due else { return nil }
            case .degraded?:
                break
            case .running?:
                // Only time frees a lease here: owners on other hosts cannot be checked for life.
                guard expired ?? true else { return nil }
                let outOfAttempts = try await expire(db, jobID: jobID, owner: leaseOwner, attempts: attempts, maxAttempts: maxAttempts)
                if outOfAttempts { return nil }
            default:
                return nil
            }
            return try await take(db, jobID: jobID, owner: owner, token: token, ttl: ttl)
        }
        guard let row else { return nil }
        return try claimed(row, owner: owner, token: token, ttl: ttl)
    }

    /// Takes over expired leases, oldest expiry first, killing jobs out of attempts on the way.
    private func rescueExpired(owner: String, filter: IdentityFilter, ttl: TimeInterval) async throws -> ClaimedJob? {
        let token = Int64.random(in: 1...Int64.max)
        let row: PostgresRow? = try await transaction { [self] db in
            while true {
                // Re-checked under the row lock: a job its worker just completed is no longer 'running', and
                // one being completed right now is locked and skipped (River #1302).
                let found = try await db.rows("""
                    SELECT id, attempts, max_attempts, lease_owner FROM jobs
                    WHERE state = 'running' AND lease_expires_at <= now()
                      AND (\(filter.pipeline)::text IS NULL OR (pipeline = \(filter.pipeline) AND pipeline_version = \(filter.version) AND engine = \(filter.engine)))
                    ORDER BY lease_expires_at LIMIT 1 FOR UPDATE SKIP LOCKED
                    """, logger)
                guard let job = found.first else { return nil }
                let (id, attempts, maxAttempts, leaseOwner) = try job.decode((Int64, Int64, Int64, String?).self)
                if try await expire(db, jobID: id, owner: leaseOwner, attempts: attempts, maxAttempts: maxAttempts) { continue }
                return try await take(db, jobID: id, owner: owner, token: token, ttl: ttl)
            }
        }
        guard let row else { return nil }
        return try claimed(row, owner: owner, token: token, ttl: ttl)
    }

    /// Records an expired lease as a failed attempt. Returns true when that used the job's last attempt
    /// (it is dead now).
    private func expire(_ db: PostgresConnection, jobID: Int64, owner: String?, attempts: Int64, maxAttempts: Int64) async throws -> Bool {
        let done = Set(try await db.rows("SELECT stage FROM stages WHERE job_id = \(jobID)", logger).map { try $0.decode(String.self) })
        let stage = Stage.standard.first { !done.contains($0.rawValue) }?.rawValue
        let message = "lease of \(owner ?? "?") expired; the process probably crashed or was killed"
        try await db.query("""
            UPDATE attempts SET ended_at = now(), outcome = 'expired', stage = \(stage), message = \(message)
            WHERE job_id = \(jobID) AND outcome = 'running'
            """, logger: logger)
        let dead = attempts >= maxAttempts
        try await db.query("""
            UPDATE jobs SET last_error = \(message),
              state = CASE WHEN \(dead) THEN 'dead' ELSE state END,
              lease_owner = CASE WHEN \(dead) THEN NULL ELSE lease_owner END,
              lease_token = CASE WHEN \(dead) THEN NULL ELSE lease_token END,
              lease_expires_at = CASE WHEN \(dead) THEN NULL ELSE lease_expires_at END,
              finished_at = CASE WHEN \(dead) THEN now() ELSE finished_at END,
              updated_at = now()
            WHERE id = \(jobID)
            """, logger: logger)
        return dead
    }

    /// Leases a job already locked by the caller's transaction and opens its attempt.
    private func take(_ db: PostgresConnection, jobID: Int64, owner: String, token: Int64, ttl: TimeInterval) async throws -> PostgresRow? {
        try await db.rows("""
            WITH taken AS (
              UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = \(owner), lease_token = \(token),
                lease_expires_at = now() + make_interval(secs => \(ttl)), updated_at = now()
              WHERE id = \(jobID) RETURNING *
            ), attempt AS (
              INSERT INTO attempts (job_id, number, owner, started_at, outcome)
              SELECT id, attempts, \(owner), now(), 'running' FROM taken RETURNING id
            )
            SELECT taken.*, attempt.id AS attempt_id, \(unescaped: Self.checkpointsJSON) FROM taken, attempt
            """, logger).first
    }

    /// The job's checkpoints as one JSON array, read in the claim's own statement (times as Unix seconds).
    static let checkpointsJSON = """
        COALESCE((SELECT json_agg(json_build_object('stage', s.stage, 'result', s.result, 'fileRef', s.file_ref,
            'startedAt', extract(epoch FROM s.started_at), 'finishedAt', extract(epoch FROM s.finished_at), 'attempt', s.attempt))
          FROM stages s WHERE s.job_id = taken.id), '[]')::text AS checkpoints
        """

    /// The claim as the worker sees it: lease, job, and what earlier attempts checkpointed.
    private func claimed(_ row: PostgresRow, owner: String, token: Int64, ttl: TimeInterval) throws -> ClaimedJob {
        let job = try Job(row)
        let r = row.makeRandomAccess()
        let attemptID = try r["attempt_id"].decode(Int64.self)
        let checkpoints = try StageJSON.decode(try r["checkpoints"].decode(String.self))
        let lease = Lease(
            jobID: job.id, owner: owner, token: token, attemptID: attemptID, attempt: job.attempts,
            expiresAt: job.leaseExpiresAt ?? Date(), duration: ttl)
        return ClaimedJob(lease: lease, job: job, checkpoints: checkpoints)
    }
}

/// One checkpoint as `checkpointsJSON` spells it.
struct StageJSON: Decodable {
    var stage: String
    var result: String?
    var fileRef: String?
    var startedAt: Double
    var finishedAt: Double
    var attempt: Int

    static func decode(_ text: String) throws -> [Stage: Checkpoint] {
        let all = try JSONDecoder().decode([StageJSON].self, from: Data(text.utf8)).map {
            Checkpoint(
                stage: Stage(rawValue: $0.stage), result: $0.result.map { Data($0.utf8) }, fileRef: $0.fileRef,
                startedAt: Date(timeIntervalSince1970: $0.startedAt), finishedAt: Date(timeIntervalSince1970: $0.finishedAt),
                attempt: $0.attempt)
        }
        return Dictionary(all.map { ($0.stage, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// The optional pipeline filter of a claim, as three nullable binds.
struct IdentityFilter: Sendable {
    var pipeline: String?
    var version: String?
    var engine: String?
    init(_ identity: JobIdentity?) {
        pipeline = identity?.pipeline
        version = identity?.pipelineVersion
        engine = identity?.engine
    }
}
