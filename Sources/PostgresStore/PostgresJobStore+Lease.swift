import Foundation
import PostgresNIO
import Store

/// The worker's writes after a claim. Each is one statement whose WHERE clause carries the lease token
/// (fencing): a worker that lost its lease changes nothing and gets ``StoreError/leaseLost(jobID:detail:)``.
/// One statement also means one row lock: a rescuer racing it either waits for it or finds the job moved on.
extension PostgresJobStore {
    /// Extends the lease by its duration from the database's now.
    @discardableResult
    public func heartbeat(_ lease: Lease) async throws -> Lease {
        let rows = try await query("""
            UPDATE jobs SET lease_expires_at = now() + make_interval(secs => \(lease.duration)), updated_at = now()
            WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND state = 'running'
            RETURNING lease_expires_at
            """)
        guard let row = rows.first else { throw try await lostError(lease) }
        return Lease(
            jobID: lease.jobID, owner: lease.owner, token: lease.token, attemptID: lease.attemptID, attempt: lease.attempt,
            expiresAt: try row.decode(Date.self), duration: lease.duration)
    }

    /// Saves a finished stage's result; saving it again replaces it.
    public func checkpoint(_ lease: Lease, stage: Stage, result: Data?, fileRef: String?, startedAt: Date?) async throws {
        // FOR SHARE holds the job row until the insert commits, so a rescuer cannot take the job in between.
        let rows = try await run(CheckpointStatement(
            jobID: lease.jobID, stage: stage.rawValue, result: result?.text, fileRef: fileRef, startedAt: startedAt,
            attempt: Int64(lease.attempt), token: lease.token))
        if rows.isEmpty { throw try await lostError(lease) }
    }

    /// Marks the job succeeded and releases the lease.
    public func complete(_ lease: Lease, result: Data?) async throws {
        let rows = try await run(CompleteStatement(result: result?.text, jobID: lease.jobID, token: lease.token, attemptID: lease.attemptID))
        if rows.isEmpty { throw try await lostError(lease) }
    }

    /// Outputs written but the model part unusable: degraded, attempts reset, the `redo` stages' checkpoints
    /// deleted, claimable again by a worker after the first backoff (and at once by ``claim(jobID:owner:leaseDuration:)``).
    public func complete(_ lease: Lease, result: Data?, degraded reason: String, redo: [Stage]) async throws {
        let delay = options.retryPolicy.delay(afterAttempt: 1)
        let rows = try await query("""
            WITH done AS (
              UPDATE jobs SET state = 'degraded', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                updated_at = now(), finished_at = now(), result = \(result?.text), last_error = \(reason),
                attempts = 0, not_before = now() + make_interval(secs => \(delay))
              WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND state = 'running' RETURNING id
            ), dropped AS (
              DELETE FROM stages WHERE job_id IN (SELECT id FROM done) AND stage = ANY(\(redo.map(\.rawValue)))
            ), closed AS (
              UPDATE attempts SET ended_at = now(), outcome = 'succeeded' WHERE id = \(lease.attemptID) AND EXISTS (SELECT 1 FROM done)
            )
            SELECT id FROM done
            """)
        if rows.isEmpty { throw try await lostError(lease) }
    }

    /// Records the error and schedules a retry after the policy's backoff, or moves the job to dead when its
    /// attempts are used up or `retryable` is false. Returns the new state.
    @discardableResult
    public func fail(_ lease: Lease, stage: Stage?, message: String, retryable: Bool) async throws -> JobState {
        // While the lease holds, the job's attempts equal this lease's attempt number.
        let delay = options.retryPolicy.delay(afterAttempt: lease.attempt)
        let rows = try await query("""
            WITH done AS (
              UPDATE jobs SET
                state = CASE WHEN \(retryable) AND attempts < max_attempts THEN 'failed' ELSE 'dead' END,
                not_before = CASE WHEN \(retryable) AND attempts < max_attempts THEN now() + make_interval(secs => \(delay)) ELSE now() END,
                finished_at = CASE WHEN \(retryable) AND attempts < max_attempts THEN NULL ELSE now() END,
                lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now(), last_error = \(message)
              WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND state = 'running' RETURNING state
            ), closed AS (
              UPDATE attempts SET ended_at = now(), outcome = 'failed', stage = \(stage?.rawValue), message = \(message)
              WHERE id = \(lease.attemptID) AND EXISTS (SELECT 1 FROM done)
            )
            SELECT state FROM done
            """)
        guard let row = rows.first else { throw try await lostError(lease) }
        return JobState(rawValue: try row.decode(String.self)) ?? .failed
    }

    /// Gives the job back without counting the attempt; it keeps its checkpoints. No-op if the lease was lost.
    public func release(_ lease: Lease) async throws {
        try await query("""
            WITH done AS (
              UPDATE jobs SET state = 'queued', attempts = GREATEST(0, attempts - 1), not_before = now(),
                lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
              WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND state = 'running' RETURNING id
            )
            UPDATE attempts SET ended_at = now(), outcome = 'released', message = 'released by its owner'
            WHERE id = \(lease.attemptID) AND EXISTS (SELECT 1 FROM done)
            """)
    }

    /// Why `lease` no longer holds, told from the job as it is now.
    func lostError(_ lease: Lease) async throws -> StoreError {
        let rows = try await query("SELECT state, lease_owner FROM jobs WHERE id = \(lease.jobID)")
        guard let row = rows.first else { return .jobNotFound(jobID: lease.jobID) }
        let (state, owner) = try row.decode((String, String?).self)
        return .leaseLost(jobID: lease.jobID, state: JobState(rawValue: state) ?? .queued, owner: owner)
    }
}
