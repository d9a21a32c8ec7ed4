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
        let filter = IdentityFilter(identity)
        // A cheap look first (an index-only probe), so the common case costs no transaction.
        let anyExpired = try await query("""
            SELECT 1 FROM jobs WHERE state = 'running' AND lease_expires_at <= now()
              AND (\(filter.pipeline)::text IS NULL OR (pipeline = \(filter.pipeline) AND pipeline_version = \(filter.version) AND engine = \(filter.engine)))
            LIMIT 1
            """)
        if !anyExpired.isEmpty, let rescued = try await rescueExpired(owner: owner, filter: filter, ttl: ttl) {
            return rescued
        }
        let token = Int64.random(in: 1...Int64.max)
        // One statement: pick, lease and open the attempt.
        let rows = try await query("""
            WITH next AS (
              SELECT id FROM jobs WHERE state IN ('queued','failed','degraded') AND not_before <= now()
                AND (\(filter.pipeline)::text IS NULL OR (pipeline = \(filter.pipeline) AND pipeline_version = \(filter.version) AND engine = \(filter.engine)))
              ORDER BY not_before, id LIMIT 1 FOR UPDATE SKIP LOCKED
            ), taken AS (
              UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = \(owner), lease_token = \(token),
                lease_expires_at = now() + make_interval(secs => \(ttl)), updated_at = now()
              FROM next WHERE j.id = next.id
              RETURNING j.*
            ), attempt AS (
              INSERT INTO attempts (job_id, number, owner, started_at, outcome)
              SELECT id, attempts, \(owner), now(), 'running' FROM taken RETURNING id
            )
            SELECT taken.*, attempt.id AS attempt_id FROM taken, attempt
            """)
        guard let row = rows.first else { return nil }
        return try await claimed(row, owner: owner, token: token, ttl: ttl)
    }

    /// Claims one job if it is ready: queued or failed past its backoff, degraded (whatever its backoff: a new
    /// run asks for it), or running with an expired lease. Nil if running elsewhere, finished, dead or cancelled.
    public func claim(jobID: Int64, owner: String, leaseDuration: TimeInterval?) async throws -> ClaimedJob? {
        let ttl = leaseDuration ?? options.leaseDuration
        let token = Int64.random(in: 1...Int64.max)
        let row: PostgresRow? = try await transaction { db in
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
        return try await claimed(row, owner: owner, token: token, ttl: ttl)
    }

    /// Takes over expired leases, oldest expiry first, killing jobs out of attempts on the way.
    private func rescueExpired(owner: String, filter: IdentityFilter, ttl: TimeInterval) async throws -> ClaimedJob? {
        let token = Int64.random(in: 1...Int64.max)
        let row: PostgresRow? = try await transaction { db in
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
        return try await claimed(row, owner: owner, token: token, ttl: ttl)
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
            SELECT taken.*, attempt.id AS attempt_id FROM taken, attempt
            """, logger).first
    }

    /// The claim as the worker sees it: lease, job, and what earlier attempts checkpointed.
    private func claimed(_ row: PostgresRow, owner: String, token: Int64, ttl: TimeInterval) async throws -> ClaimedJob {
        let job = try Job(row)
        let attemptID = try row.makeRandomAccess()["attempt_id"].decode(Int64.self)
        let stages = try await query("SELECT * FROM stages WHERE job_id = \(job.id)")
        let lease = Lease(
            jobID: job.id, owner: owner, token: token, attemptID: attemptID, attempt: job.attempts,
            expiresAt: job.leaseExpiresAt ?? Date(), duration: ttl)
        return ClaimedJob(lease: lease, job: job, checkpoints: try Checkpoint.byStage(stages))
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
