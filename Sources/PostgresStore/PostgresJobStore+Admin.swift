import Foundation
import PostgresNIO
import Store

/// The operator's side: looking at jobs, retrying and cancelling them.
extension PostgresJobStore {
    public func job(_ id: Int64) async throws -> Job? {
        try await query("SELECT * FROM jobs WHERE id = \(id)").first.map(Job.init)
    }

    /// Jobs, newest activity first, optionally in one state.
    public func jobs(state: JobState?, limit: Int) async throws -> [Job] {
        try await query("""
            SELECT * FROM jobs WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY updated_at DESC, id DESC LIMIT \(Int64(limit))
            """).map(Job.init)
    }

    public func checkpoints(jobID: Int64) async throws -> [Stage: Checkpoint] {
        try Checkpoint.byStage(try await query("SELECT * FROM stages WHERE job_id = \(jobID)"))
    }

    public func attempts(jobID: Int64) async throws -> [Attempt] {
        try await query("SELECT * FROM attempts WHERE job_id = \(jobID) ORDER BY id").map(Attempt.init)
    }

    /// Jobs in each state (states with no job are absent).
    public func counts(identity: JobIdentity?) async throws -> [JobState: Int] {
        let filter = IdentityFilter(identity)
        let rows = try await query("""
            SELECT state, count(*) FROM jobs
            WHERE (\(filter.pipeline)::text IS NULL OR (pipeline = \(filter.pipeline) AND pipeline_version = \(filter.version) AND engine = \(filter.engine)))
            GROUP BY state
            """)
        var counts: [JobState: Int] = [:]
        for row in rows {
            let (state, n) = try row.decode((String, Int64).self)
            if let s = JobState(rawValue: state) { counts[s] = Int(n) }
        }
        return counts
    }

    /// Puts failed, dead or cancelled jobs back in the queue with fresh attempts, checkpoints kept.
    /// `ids` empty = every job in `states`. A named job in another state is an error.
    @discardableResult
    public func retry(ids: [Int64], states: Set<JobState>) async throws -> Int {
        let revivable: Set<JobState> = [.failed, .dead, .cancelled]
        if ids.isEmpty {
            let allowed = states.intersection(revivable).map(\.rawValue)
            guard !allowed.isEmpty else { return 0 }
            return try await query("""
                UPDATE jobs SET state = 'queued', attempts = 0, not_before = now(), updated_at = now(), finished_at = NULL
                WHERE state = ANY(\(allowed)) RETURNING id
                """).count
        }
        return try await transaction { [self] db in
            for id in ids {
                let found = try await db.rows("SELECT state FROM jobs WHERE id = \(id) FOR UPDATE", logger)
                guard let row = found.first else { throw StoreError.jobNotFound(jobID: id) }
                let state = JobState(rawValue: try row.decode(String.self)) ?? .queued
                guard revivable.contains(state) else {
                    throw StoreError.invalidTransition(jobID: id, from: state, action: "retried (only failed, dead or cancelled jobs can be)")
                }
                try await db.query("""
                    UPDATE jobs SET state = 'queued', attempts = 0, not_before = now(), updated_at = now(), finished_at = NULL
                    WHERE id = \(id)
                    """, logger: logger)
            }
            return ids.count
        }
    }

    /// Stops a job until it is retried. A running job's lease is voided: its worker's next write fails.
    public func cancel(_ id: Int64) async throws {
        try await transaction { [self] db in
            let found = try await db.rows("SELECT state FROM jobs WHERE id = \(id) FOR UPDATE", logger)
            guard let row = found.first else { throw StoreError.jobNotFound(jobID: id) }
            let state = JobState(rawValue: try row.decode(String.self)) ?? .queued
            guard !state.isTerminal else { throw StoreError.invalidTransition(jobID: id, from: state, action: "cancelled") }
            try await db.query("""
                UPDATE jobs SET state = 'cancelled', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
                  updated_at = now(), finished_at = now() WHERE id = \(id)
                """, logger: logger)
            try await db.query("""
                UPDATE attempts SET ended_at = now(), outcome = 'cancelled', message = 'cancelled by the user'
                WHERE job_id = \(id) AND outcome = 'running'
                """, logger: logger)
        }
    }
}
