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
        return try await transaction { [self] db in
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
    }
}
