import Foundation
import PostgresNIO
import Store

/// What the pipeline's runner needs beyond the queue (``PipelineStore``): the scan, where files live, engine
/// call counts and the searchable texts, all shared by every host.
extension PostgresJobStore: PipelineStore {
    /// The host's own stat cache (`cache`, SQLite) says which files must be read to know their content; the
    /// jobs are made here, shared. Enqueue is idempotent, so every readable file is (re)stated in one transaction.
    public func rescan(paths: [String], identity: JobIdentity, cache: JobStore) async throws -> RescanReport {
        let (scanned, fingerprinted) = try cache.scan(paths: paths)
        var items = scanned.map { RescanItem(path: $0.path, change: $0.change, fingerprint: $0.fingerprint, created: false, error: $0.error) }
        let known = items.indices.filter { items[$0].fingerprint != nil }
        let results = try await enqueue(known.map {
            EnqueueRequest(fingerprint: items[$0].fingerprint!, path: items[$0].path, identity: identity)
        })
        for (index, result) in zip(known, results) { items[index].record(result) }
        return RescanReport(items: items, fingerprinted: fingerprinted)
    }

    public func readyJobs(identity: JobIdentity, limit: Int) async throws -> [Job] {
        try await query("""
            SELECT * FROM jobs WHERE pipeline = \(identity.pipeline) AND pipeline_version = \(identity.pipelineVersion)
              AND engine = \(identity.engine)
              AND ((state IN ('queued','failed','degraded') AND not_before <= now()) OR (state = 'running' AND lease_expires_at <= now()))
            ORDER BY not_before, id LIMIT \(Int64(limit))
            """).map(Job.init)
    }

    public func setRoots(_ roots: [Int64: JobRoot]) async throws {
        guard !roots.isEmpty else { return }
        let ids = Array(roots.keys)
        try await query("""
            INSERT INTO job_roots (job_id, root, relative_path)
            SELECT * FROM unnest(\(ids)::bigint[], \(ids.map { roots[$0]!.root })::text[], \(ids.map { roots[$0]!.relativePath })::text[])
            ON CONFLICT (job_id) DO UPDATE SET root = excluded.root, relative_path = excluded.relative_path
            WHERE job_roots.root IS DISTINCT FROM excluded.root OR job_roots.relative_path IS DISTINCT FROM excluded.relative_path
            """)
    }

    public func roots(jobIDs: [Int64]) async throws -> [Int64: JobRoot] {
        guard !jobIDs.isEmpty else { return [:] }
        var out: [Int64: JobRoot] = [:]
        for row in try await query("SELECT job_id, root, relative_path FROM job_roots WHERE job_id = ANY(\(jobIDs))") {
            let (id, root, relative) = try row.decode((Int64, String, String).self)
            out[id] = JobRoot(root: root, relativePath: relative)
        }
        return out
    }

    public func allRelativePaths() async throws -> [String] {
        try await query("SELECT relative_path FROM job_roots").map { try $0.decode(String.self) }
    }

    @discardableResult
    public func recordOutputs(jobID: Int64, path: String, result: Data) async throws -> Bool {
        let text = String(decoding: result, as: UTF8.self)
        return !(try await query("UPDATE jobs SET path = \(path), result = \(text) WHERE id = \(jobID) AND state = 'succeeded' RETURNING id")).isEmpty
    }

    public func recordEngineCalls(jobID: Int64, stage: Stage, count: Int) async throws {
        try await query("""
            INSERT INTO engine_calls (job_id, stage, calls) VALUES (\(jobID), \(stage.rawValue), \(Int64(count)))
            ON CONFLICT (job_id, stage) DO UPDATE SET calls = engine_calls.calls + excluded.calls
            """)
    }

    public func engineCalls(jobID: Int64) async throws -> [Stage: Int] {
        var out: [Stage: Int] = [:]
        for row in try await query("SELECT stage, calls FROM engine_calls WHERE job_id = \(jobID)") {
            let (stage, calls) = try row.decode((String, Int64).self)
            out[Stage(rawValue: stage)] = Int(calls)
        }
        return out
    }

    public func replaceSearchEntries(_ lease: Lease, path: String, entries: [SearchEntry], media: SearchMedia) async throws {
        let kept = entries.filter { !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        let json = String(decoding: try JSONEncoder().encode(kept), as: UTF8.self)
        let owned = try await transaction { [self] db in
            // FOR SHARE: the lease cannot be taken over until these rows are in.
            guard try await !db.rows("""
                SELECT 1 FROM jobs WHERE id = \(lease.jobID) AND lease_token = \(lease.token) AND state = 'running' FOR SHARE
                """, logger).isEmpty else { return false }
            try await db.rows("DELETE FROM search_entries WHERE job_id = \(lease.jobID)", logger)
            try await db.rows("""
                INSERT INTO search_entries (job_id, path, kind, start_s, end_s, text, speaker)
                SELECT \(lease.jobID), \(path), e.kind, e.start, e."end", e.text, e.speaker
                FROM jsonb_to_recordset(\(json)::jsonb) AS e(kind text, start double precision, "end" double precision, text text, speaker text)
                """, logger)
            try await db.rows("""
                INSERT INTO search_media (job_id, duration, language, media_date)
                VALUES (\(lease.jobID), \(media.duration), \(media.language), \(media.date))
                ON CONFLICT (job_id) DO UPDATE SET duration = excluded.duration, language = excluded.language, media_date = excluded.media_date
                """, logger)
            return true
        }
        if !owned { throw try await lostError(lease) }
    }
}
