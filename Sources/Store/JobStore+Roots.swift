import Foundation
import GRDB

/// Where a job's file lives as (input root, path under it), and the jobs a worker may take now.
/// A job's file as its enqueuer named it: `root` is a name from `--root NAME=PATH`, or an absolute folder.
public struct JobRoot: Sendable, Hashable {
    public var root: String
    public var relativePath: String
    public init(root: String, relativePath: String) { self.root = root; self.relativePath = relativePath }
}

extension JobStore {
    /// Records (or updates) where each job's file lives. Rows that already say so are not written.
    public func setRoots(_ roots: [Int64: JobRoot]) throws {
        guard !roots.isEmpty else { return }
        try write { db in
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO jobRoots (jobId, root, relativePath) VALUES (?, ?, ?)
                ON CONFLICT (jobId) DO UPDATE SET root = excluded.root, relativePath = excluded.relativePath
                WHERE root IS NOT excluded.root OR relativePath IS NOT excluded.relativePath
                """)
            for (id, r) in roots { try upsert.execute(arguments: [id, r.root, r.relativePath]) }
        }
    }

    public func roots(jobIDs: [Int64]) throws -> [Int64: JobRoot] {
        try read { db in
            var out: [Int64: JobRoot] = [:]
            let query = try db.cachedStatement(sql: "SELECT root, relativePath FROM jobRoots WHERE jobId = ?")
            for id in jobIDs {
                if let row = try Row.fetchOne(query, arguments: [id]) { out[id] = JobRoot(root: row["root"], relativePath: row["relativePath"]) }
            }
            return out
        }
    }

    /// Every relative path jobs were enqueued under (to keep outputs of same-stem files apart, as `recap run` does).
    public func allRelativePaths() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT relativePath FROM jobRoots") }
    }

    /// Jobs of `identity` a worker could claim now, oldest first: queued, failed or degraded past their backoff,
    /// and running ones whose lease ran out. Claiming is still done one by one (and may lose a race).
    public func readyJobs(identity: JobIdentity, limit: Int) throws -> [Job] {
        try read { db in
            let now = now()
            return try Job.fetchAll(db, sql: """
                SELECT * FROM jobs WHERE pipeline = ? AND pipelineVersion = ? AND engine = ?
                  AND ((state IN ('queued','failed','degraded') AND notBefore <= ?) OR (state = 'running' AND leaseExpiresAt <= ?))
                ORDER BY notBefore, id LIMIT ?
                """, arguments: [identity.pipeline, identity.pipelineVersion, identity.engine, now, now, limit])
        }
    }
}
