import Foundation
import GRDB

/// What makes two jobs the same work: (content fingerprint, pipeline name + version, engine + model
/// identity). Changing the pipeline version or a model makes new jobs, on purpose.
public struct JobIdentity: Sendable, Hashable, Codable {
    public var pipeline: String
    public var pipelineVersion: String
    /// The engine backend and its model identities, e.g. `local:whisper-base.en@1a2b+qwen2.5-0.5b-q4@3c4d`.
    public var engine: String

    public init(pipeline: String, pipelineVersion: String, engine: String) {
        self.pipeline = pipeline
        self.pipelineVersion = pipelineVersion
        self.engine = engine
    }
}

/// One media file × one pipeline × one engine.
public struct Job: Sendable, Hashable, Identifiable {
    public var id: Int64
    public var fingerprint: String
    public var identity: JobIdentity
    /// The file's path when last seen (a moved file keeps its job; this follows it).
    public var path: String
    public var state: JobState
    /// Attempts started so far (a released attempt does not count).
    public var attempts: Int
    public var maxAttempts: Int
    /// A failed job is not claimed before this time (its backoff).
    public var notBefore: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
    /// The JSON the job completed with, if any.
    public var result: Data?
    public var lastError: String?

    // Public, so another JobQueue implementation (PostgresStore) can build it from its own rows.
    public init(
        id: Int64, fingerprint: String, identity: JobIdentity, path: String, state: JobState, attempts: Int,
        maxAttempts: Int, notBefore: Date, leaseOwner: String?, leaseExpiresAt: Date?, createdAt: Date,
        updatedAt: Date, finishedAt: Date?, result: Data?, lastError: String?
    ) {
        self.id = id
        self.fingerprint = fingerprint
        self.identity = identity
        self.path = path
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.notBefore = notBefore
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.result = result
        self.lastError = lastError
    }
}

extension Job: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        fingerprint = row["fingerprint"]
        identity = JobIdentity(pipeline: row["pipeline"], pipelineVersion: row["pipelineVersion"], engine: row["engine"])
        path = row["path"]
        state = JobState(rawValue: row["state"]) ?? .queued
        attempts = row["attempts"]
        maxAttempts = row["maxAttempts"]
        notBefore = Date(timeIntervalSince1970: row["notBefore"])
        leaseOwner = row["leaseOwner"]
        leaseExpiresAt = (row["leaseExpiresAt"] as Double?).map(Date.init(timeIntervalSince1970:))
        createdAt = Date(timeIntervalSince1970: row["createdAt"])
        updatedAt = Date(timeIntervalSince1970: row["updatedAt"])
        finishedAt = (row["finishedAt"] as Double?).map(Date.init(timeIntervalSince1970:))
        result = (row["result"] as String?).map { Data($0.utf8) }
        lastError = row["lastError"]
    }
}

/// A finished stage's saved result: JSON in the store, and/or a file it references.
public struct Checkpoint: Sendable, Hashable {
    public var stage: Stage
    public var result: Data?
    public var fileRef: String?
    public var startedAt: Date
    public var finishedAt: Date
    /// The attempt that produced it.
    public var attempt: Int

    public var duration: TimeInterval { finishedAt.timeIntervalSince(startedAt) }

    /// Decodes the JSON result.
    /// A stage's value as stored: JSON with sorted keys, so the same value is the same bytes.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }

    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: result ?? Data("null".utf8))
    }

    // Public, so another JobQueue implementation (PostgresStore) can build it from its own rows.
    public init(stage: Stage, result: Data?, fileRef: String?, startedAt: Date, finishedAt: Date, attempt: Int) {
        self.stage = stage
        self.result = result
        self.fileRef = fileRef
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.attempt = attempt
    }
}

extension Checkpoint: FetchableRecord {
    public init(row: Row) throws {
        stage = Stage(rawValue: row["stage"])
        result = (row["result"] as String?).map { Data($0.utf8) }
        fileRef = row["fileRef"]
        startedAt = Date(timeIntervalSince1970: row["startedAt"])
        finishedAt = Date(timeIntervalSince1970: row["finishedAt"])
        attempt = row["attempt"]
    }
}

/// How an attempt ended.
public enum AttemptOutcome: String, Codable, Sendable {
    case running, succeeded, failed, expired, released, cancelled
}

/// One try at a job, kept forever with its error, so `recap jobs show` can tell the whole story.
public struct Attempt: Sendable, Hashable {
    public var id: Int64
    public var number: Int
    public var owner: String
    public var startedAt: Date
    public var endedAt: Date?
    public var outcome: AttemptOutcome
    /// The stage it failed in, when known.
    public var stage: Stage?
    public var message: String?

    // Public, so another JobQueue implementation (PostgresStore) can build it from its own rows.
    public init(
        id: Int64, number: Int, owner: String, startedAt: Date, endedAt: Date?, outcome: AttemptOutcome,
        stage: Stage?, message: String?
    ) {
        self.id = id
        self.number = number
        self.owner = owner
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.stage = stage
        self.message = message
    }
}

extension Attempt: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        number = row["number"]
        owner = row["owner"]
        startedAt = Date(timeIntervalSince1970: row["startedAt"])
        endedAt = (row["endedAt"] as Double?).map(Date.init(timeIntervalSince1970:))
        outcome = AttemptOutcome(rawValue: row["outcome"]) ?? .failed
        stage = (row["stage"] as String?).map(Stage.init(rawValue:))
        message = row["message"]
    }
}

/// Counts a run reports about itself.
public struct RunCounts: Sendable, Hashable, Codable {
    public var discovered: Int
    public var enqueued: Int
    public var succeeded: Int
    public var failed: Int
    public var skipped: Int
    public init(discovered: Int = 0, enqueued: Int = 0, succeeded: Int = 0, failed: Int = 0, skipped: Int = 0) {
        self.discovered = discovered
        self.enqueued = enqueued
        self.succeeded = succeeded
        self.failed = failed
        self.skipped = skipped
    }
}

/// One invocation of a command that worked on the store (e.g. one `recap run` from cron).
public struct RunRecord: Sendable, Hashable, Identifiable {
    public var id: Int64
    public var command: String
    public var host: String
    public var pid: Int
    public var startedAt: Date
    /// Nil while running, or forever if the process was killed.
    public var endedAt: Date?
    public var counts: RunCounts
}

extension RunRecord: FetchableRecord {
    public init(row: Row) throws {
        id = row["id"]
        command = row["command"]
        host = row["host"]
        pid = row["pid"]
        startedAt = Date(timeIntervalSince1970: row["startedAt"])
        endedAt = (row["endedAt"] as Double?).map(Date.init(timeIntervalSince1970:))
        counts = RunCounts(
            discovered: row["discovered"], enqueued: row["enqueued"], succeeded: row["succeeded"],
            failed: row["failed"], skipped: row["skipped"])
    }
}

/// Proof of ownership of a running job. Every checkpoint and result write presents it; a stale
/// lease (expired and re-claimed, or cancelled) makes those writes throw ``StoreError/leaseLost(jobID:detail:)``.
public struct Lease: Sendable, Hashable {
    public let jobID: Int64
    public let owner: String
    /// Random per claim: a re-claim by the same owner still invalidates an older lease.
    public let token: Int64
    /// The attempts-table row of this claim.
    public let attemptID: Int64
    public let attempt: Int
    public internal(set) var expiresAt: Date
    public let duration: TimeInterval

    // Public, so another JobQueue implementation (PostgresStore) can build it from its own rows.
    public init(jobID: Int64, owner: String, token: Int64, attemptID: Int64, attempt: Int, expiresAt: Date, duration: TimeInterval) {
        self.jobID = jobID
        self.owner = owner
        self.token = token
        self.attemptID = attemptID
        self.attempt = attempt
        self.expiresAt = expiresAt
        self.duration = duration
    }
}

/// A claimed job and what it has already done.
public struct ClaimedJob: Sendable {
    public var lease: Lease
    public var job: Job
    /// Stages finished by earlier attempts; skip them and use their results.
    public var checkpoints: [Stage: Checkpoint]

    /// The first of `stages` without a checkpoint: where this attempt starts. Nil if all are done.
    public func firstUnfinished(of stages: [Stage] = Stage.standard) -> Stage? {
        stages.first { checkpoints[$0] == nil }
    }

    // Public, so another JobQueue implementation (PostgresStore) can build it from its own rows.
    public init(lease: Lease, job: Job, checkpoints: [Stage: Checkpoint]) {
        self.lease = lease
        self.job = job
        self.checkpoints = checkpoints
    }
}
