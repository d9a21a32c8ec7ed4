import Foundation
import GRDB

/// A job to create: a file's content fingerprint and current path, and the work identity.
public struct EnqueueRequest: Sendable, Hashable {
    public var fingerprint: String
    public var path: String
    public var identity: JobIdentity
    /// Overrides the store's ``RetryPolicy/maxAttempts``.
    public var maxAttempts: Int?

    public init(fingerprint: String, path: String, identity: JobIdentity, maxAttempts: Int? = nil) {
        self.fingerprint = fingerprint
        self.path = path
        self.identity = identity
        self.maxAttempts = maxAttempts
    }
}

/// What enqueueing found: a new job, or the job that already had this idempotency key.
public struct EnqueueResult: Sendable, Hashable {
    public var jobID: Int64
    public var created: Bool
    public var state: JobState

    // Public, so another JobQueue implementation (PostgresStore) can build it from its own rows.
    public init(jobID: Int64, created: Bool, state: JobState) {
        self.jobID = jobID
        self.created = created
        self.state = state
    }
}

extension JobStore {
    /// Creates one job per request unless a job with the same idempotency key (fingerprint,
    /// pipeline, version, engine) exists; then it returns that job, untouched except that its path
    /// follows the file. All in one transaction.
    @discardableResult
    public func enqueue(_ requests: [EnqueueRequest]) throws -> [EnqueueResult] {
        guard !requests.isEmpty else { return [] }
        return try write { db in try enqueue(db, requests, now: now()) }
    }

    @discardableResult
    public func enqueue(_ request: EnqueueRequest) throws -> EnqueueResult {
        try enqueue([request])[0]
    }

    func enqueue(_ db: Database, _ requests: [EnqueueRequest], now: Double) throws -> [EnqueueResult] {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO jobs (fingerprint, pipeline, pipelineVersion, engine, path, state, attempts, maxAttempts,
              notBefore, createdAt, updatedAt)
            VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)
            ON CONFLICT (fingerprint, pipeline, pipelineVersion, engine) DO NOTHING
            """)
        let existing = try db.cachedStatement(sql: """
            SELECT id, state, path FROM jobs WHERE fingerprint = ? AND pipeline = ? AND pipelineVersion = ? AND engine = ?
            """)
        let move = try db.cachedStatement(sql: "UPDATE jobs SET path = ? WHERE id = ?")
        var results: [EnqueueResult] = []
        results.reserveCapacity(requests.count)
        for r in requests {
            let id = r.identity
            try insert.execute(arguments: [
                r.fingerprint, id.pipeline, id.pipelineVersion, id.engine, r.path,
                r.maxAttempts ?? options.retryPolicy.maxAttempts, now, now, now,
            ])
            if db.changesCount == 1 {
                results.append(EnqueueResult(jobID: db.lastInsertedRowID, created: true, state: .queued))
            } else {
                guard let row = try Row.fetchOne(existing, arguments: [r.fingerprint, id.pipeline, id.pipelineVersion, id.engine])
                else { continue }
                let jobID: Int64 = row["id"]
                if (row["path"] as String) != r.path { try move.execute(arguments: [r.path, jobID]) }
                results.append(EnqueueResult(jobID: jobID, created: false, state: JobState(rawValue: row["state"]) ?? .queued))
            }
        }
        return results
    }
}
