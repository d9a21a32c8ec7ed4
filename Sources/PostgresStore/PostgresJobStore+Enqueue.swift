import Foundation
import PostgresNIO
import Store

extension PostgresJobStore {
    /// One job per request unless its idempotency key (fingerprint, pipeline, version, engine) exists; then
    /// that job, untouched except that its path follows the file. All in one transaction; results in the
    /// requests' order.
    ///
    /// A night's rescan enqueues every file again, so this is one statement per pipeline identity (arrays as
    /// parameters) rather than a round trip per file. What that statement cannot settle goes one request at a
    /// time, as before: a content listed twice (its later paths), and a key another process committed while
    /// the statement ran (its snapshot cannot see it).
    @discardableResult
    public func enqueue(_ requests: [EnqueueRequest]) async throws -> [EnqueueResult] {
        guard !requests.isEmpty else { return [] }
        let defaultMax = Int64(options.retryPolicy.maxAttempts)
        let results = try await transaction { [self] db in
            var results = [EnqueueResult?](repeating: nil, count: requests.count)
            var seen = Set<EnqueueKey>()
            let firsts = requests.indices.filter { seen.insert(EnqueueKey(requests[$0])).inserted }
            for (identity, indices) in Dictionary(grouping: firsts, by: { requests[$0].identity }) {
                let settled = try await enqueueBatch(db, identity: identity, indices.map { requests[$0] }, defaultMax: defaultMax)
                for i in indices { results[i] = settled[requests[i].fingerprint] }
            }
            for i in results.indices where results[i] == nil {
                results[i] = try await enqueueOne(db, requests[i], defaultMax: defaultMax)
            }
            return results.compactMap { $0 }
        }
        let created = results.reduce(0) { $0 + ($1.created ? 1 : 0) }
        if created > 0 { await refreshStatisticsIfStale(created: created) }
        return results
    }

    /// Requests of one identity, each content once: inserted, or found and given its new path (only a path
    /// that changed is written: a nightly rescan of an unchanged archive leaves no dead rows). Keyed by
    /// fingerprint; a content missing from the answer was settled by neither (see ``enqueue(_:)``).
    private func enqueueBatch(_ db: PostgresConnection, identity id: JobIdentity, _ batch: [EnqueueRequest],
                              defaultMax: Int64) async throws -> [String: EnqueueResult] {
        let fingerprints = batch.map(\.fingerprint), paths = batch.map(\.path)
        let maxAttempts = batch.map { $0.maxAttempts.map(Int64.init) ?? defaultMax }
        let rows = try await db.rows("""
            WITH input AS (
              SELECT * FROM unnest(\(fingerprints)::text[], \(paths)::text[], \(maxAttempts)::bigint[]) AS t(fingerprint, path, max_attempts)
            ), inserted AS (
              INSERT INTO jobs (fingerprint, pipeline, pipeline_version, engine, path, state, attempts, max_attempts,
                not_before, created_at, updated_at)
              SELECT fingerprint, \(id.pipeline), \(id.pipelineVersion), \(id.engine), path, 'queued', 0, max_attempts, now(), now(), now()
              FROM input
              ON CONFLICT (fingerprint, pipeline, pipeline_version, engine) DO NOTHING
              RETURNING id, fingerprint, state
            ), found AS (
              -- One key lookup per request. As a plain join, a pipeline version the statistics have not seen yet
              -- was estimated at one row and planned as a scan of every job per request (quadratic).
              -- LIMIT 1 keeps the subquery a lookup; the key is unique anyway.
              SELECT j.id, j.fingerprint, j.state, j.path, input.path AS new_path FROM input CROSS JOIN LATERAL (
                SELECT id, fingerprint, state, path FROM jobs WHERE fingerprint = input.fingerprint
                  AND pipeline = \(id.pipeline) AND pipeline_version = \(id.pipelineVersion) AND engine = \(id.engine) LIMIT 1
              ) j
            ), moved AS (
              UPDATE jobs j SET path = found.new_path FROM found WHERE j.id = found.id AND found.path <> found.new_path
            )
            SELECT true, id, fingerprint, state FROM inserted UNION ALL SELECT false, id, fingerprint, state FROM found
            """, logger)
        var settled: [String: EnqueueResult] = [:]
        for row in rows {
            let (created, jobID, fingerprint, state) = try row.decode((Bool, Int64, String, String).self)
            settled[fingerprint] = EnqueueResult(jobID: jobID, created: created, state: JobState(rawValue: state) ?? .queued)
        }
        return settled
    }

    /// One request on its own statements: each sees what other processes committed before it.
    private func enqueueOne(_ db: PostgresConnection, _ r: EnqueueRequest, defaultMax: Int64) async throws -> EnqueueResult? {
        let id = r.identity
        let created = try await db.rows("""
            INSERT INTO jobs (fingerprint, pipeline, pipeline_version, engine, path, state, attempts, max_attempts,
              not_before, created_at, updated_at)
            VALUES (\(r.fingerprint), \(id.pipeline), \(id.pipelineVersion), \(id.engine), \(r.path), 'queued', 0,
              \(r.maxAttempts.map(Int64.init) ?? defaultMax), now(), now(), now())
            ON CONFLICT (fingerprint, pipeline, pipeline_version, engine) DO NOTHING
            RETURNING id
            """, logger)
        if let row = created.first { return EnqueueResult(jobID: try row.decode(Int64.self), created: true, state: .queued) }
        // The key exists (maybe inserted a moment ago by another process: READ COMMITTED sees it now).
        let existing = try await db.rows("""
            UPDATE jobs SET path = \(r.path)
            WHERE fingerprint = \(r.fingerprint) AND pipeline = \(id.pipeline)
              AND pipeline_version = \(id.pipelineVersion) AND engine = \(id.engine)
            RETURNING id, state
            """, logger)
        guard let row = existing.first else { return nil }
        let (jobID, state) = try row.decode((Int64, String).self)
        return EnqueueResult(jobID: jobID, created: false, state: JobState(rawValue: state) ?? .queued)
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

/// A request's idempotency key: two requests with the same one are the same job.
private struct EnqueueKey: Hashable {
    let fingerprint: String, identity: JobIdentity
    init(_ r: EnqueueRequest) { (fingerprint, identity) = (r.fingerprint, r.identity) }
}
