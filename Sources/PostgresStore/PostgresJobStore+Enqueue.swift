import Foundation
import PostgresNIO
import Store

extension PostgresJobStore {
    /// One job per request unless its idempotency key (fingerprint, pipeline, version, engine) exists; then
    /// that job, untouched except that its path follows the file. All in one transaction.
    @discardableResult
    public func enqueue(_ requests: [EnqueueRequest]) async throws -> [EnqueueResult] {
        guard !requests.isEmpty else { return [] }
        let defaultMax = options.retryPolicy.maxAttempts
        let results = try await transaction { [self] db in
            var results: [EnqueueResult] = []
            results.reserveCapacity(requests.count)
            for r in requests {
                let id = r.identity
                let created = try await db.rows("""
                    INSERT INTO jobs (fingerprint, pipeline, pipeline_version, engine, path, state, attempts, max_attempts,
                      not_before, created_at, updated_at)
                    VALUES (\(r.fingerprint), \(id.pipeline), \(id.pipelineVersion), \(id.engine), \(r.path), 'queued', 0,
                      \(Int64(r.maxAttempts ?? defaultMax)), now(), now(), now())
                    ON CONFLICT (fingerprint, pipeline, pipeline_version, engine) DO NOTHING
                    RETURNING id
                    """, logger)
                if let row = created.first {
                    results.append(EnqueueResult(jobID: try row.decode(Int64.self), created: true, state: .queued))
                    continue
                }
                // The key exists (maybe inserted a moment ago by another process: READ COMMITTED sees it now).
                let existing = try await db.rows("""
                    UPDATE jobs SET path = \(r.path)
                    WHERE fingerprint = \(r.fingerprint) AND pipeline = \(id.pipeline)
                      AND pipeline_version = \(id.pipelineVersion) AND engine = \(id.engine)
                    RETURNING id, state
                    """, logger)
                guard let row = existing.first else { continue }
                let (jobID, state) = try row.decode((Int64, String).self)
                results.append(EnqueueResult(jobID: jobID, created: false, state: JobState(rawValue: state) ?? .queued))
            }
            return results
        }
        let created = results.reduce(0) { $0 + ($1.created ? 1 : 0) }
        if created > 0 { await refreshStatisticsIfStale(created: created) }
        return results
    }

    /// Runs ANALYZE on the jobs table when this enqueue made the planner's picture of it wrong: never analyzed,
    /// or grown by more than a tenth since. Claims are prepared statements whose plan is fixed after a few
    /// runs; planned on a table the server believes empty, a claim cost twice as much (bench/queue.sh).
    /// Autovacuum would catch up within a minute or so; the first minute of a night's run is when most of the
    /// queue is claimed. Best effort: it waits at most a moment for another ANALYZE or VACUUM, and a failure
    /// only leaves the statistics as they were.
    private func refreshStatisticsIfStale(created: Int) async {
        _ = try? await transaction { [self] db in
            let rows = try await db.rows("SELECT reltuples::float8 FROM pg_class WHERE oid = 'jobs'::regclass", logger)
            let known = try rows.first?.decode(Double.self) ?? -1
            guard known < 0 || Double(created) > known / 10 else { return false }
            try await db.query("SET LOCAL lock_timeout = '200ms'", logger: logger)
            try await db.query("ANALYZE jobs", logger: logger)
            return true
        }
    }
}
