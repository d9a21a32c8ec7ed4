import Foundation
import PostgresNIO
import Store

/// Worker liveness and retention.
extension PostgresJobStore {
    /// A new worker row; its id comes from an identity sequence and is never reused (Oban #862).
    public func registerWorker(name: String, host: String, pid: Int) async throws -> Int64 {
        let rows = try await query("""
            INSERT INTO workers (name, host, pid, started_at, last_heartbeat) VALUES (\(name), \(host), \(Int64(pid)), now(), now())
            RETURNING id
            """)
        guard let row = rows.first else { throw StoreError.database(path: location, detail: "registering a worker returned no id") }
        return try row.decode(Int64.self)
    }

    public func workerHeartbeat(_ id: Int64, jobsDone: Int, failures: Int) async throws {
        try await query("""
            UPDATE workers SET last_heartbeat = now(), jobs_done = \(Int64(jobsDone)), failures = \(Int64(failures)) WHERE id = \(id)
            """)
    }

    public func workers() async throws -> [WorkerRecord] {
        try await query("SELECT * FROM workers ORDER BY last_heartbeat DESC, id DESC").map(WorkerRecord.init)
    }

    /// Deletes finished jobs older than `horizon` (stages and attempts cascade) and workers silent as long.
    /// Deleted rows are reclaimed by autovacuum (the jobs table is tuned for it in migration 1); a bounded
    /// table also keeps the claim's partial index small.
    @discardableResult
    public func pruneFinished(olderThan horizon: TimeInterval, states: Set<JobState>) async throws -> Int {
        let finished = states.filter(\.isTerminal).map(\.rawValue).sorted()
        return try await transaction { [self] db in
            let pruned = try await db.rows("""
                DELETE FROM jobs WHERE state = ANY(\(finished))
                  AND finished_at < now() - make_interval(secs => \(horizon))
                RETURNING id
                """, logger).count
            try await db.query(
                "DELETE FROM workers WHERE last_heartbeat < now() - make_interval(secs => \(horizon))", logger: logger)
            return pruned
        }
    }

    /// Dropped results and attempts leave dead row versions that autovacuum reclaims for new rows; the
    /// files do not shrink on their own (VACUUM FULL does, with a lock an operator chooses the time of).
    @discardableResult
    public func compactSucceeded(olderThan horizon: TimeInterval) async throws -> Int {
        try await transaction { [self] db in
            let rows = try await db.rows("""
                WITH old AS (
                  SELECT id FROM jobs WHERE state = 'succeeded' AND finished_at < now() - make_interval(secs => \(horizon))
                ), results AS (
                  UPDATE stages SET result = NULL WHERE result IS NOT NULL AND job_id IN (SELECT id FROM old) RETURNING job_id
                ), tries AS (
                  DELETE FROM attempts WHERE outcome != 'succeeded' AND job_id IN (SELECT id FROM old) RETURNING job_id
                )
                SELECT count(*) FROM (SELECT job_id FROM results UNION SELECT job_id FROM tries) touched
                """, logger)
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }
}
