import Foundation

/// Everything the pipeline's runner asks of a store: the job queue, plus where jobs' files live, how many
/// engine calls each stage made, and the texts search indexes (words and vectors). Two implementations: the SQLite ``JobStore``
/// (one host; it is also every host's stat cache and run log) and `PostgresStore.PostgresJobStore` (many hosts).
public protocol PipelineStore: JobQueue, VectorStore {
    /// What messages name: a file path, or a database URL without its password.
    var location: String { get }

    /// Finds each path's content fingerprint (through `cache`, the host's stat cache, so an unchanged file is
    /// not read) and makes sure a job exists for it under `identity`. Unreadable paths are reported, not thrown.
    func rescan(paths: [String], identity: JobIdentity, cache: JobStore) async throws -> RescanReport

    /// Jobs of `identity` claimable now, oldest first (claiming them may still lose a race).
    func readyJobs(identity: JobIdentity, limit: Int) async throws -> [Job]
    func setRoots(_ roots: [Int64: JobRoot]) async throws
    func roots(jobIDs: [Int64]) async throws -> [Int64: JobRoot]
    /// Every relative path jobs were enqueued under (outputs of same-stem files are kept apart by them).
    func allRelativePaths() async throws -> [String]

    /// Points a succeeded job at `path` and the outputs placed for it there (a moved file's new place).
    /// False when the job is not succeeded.
    func recordOutputs(jobID: Int64, path: String, result: Data) async throws -> Bool

    func recordEngineCalls(jobID: Int64, stage: Stage, count: Int) async throws
    func engineCalls(jobID: Int64) async throws -> [Stage: Int]

    /// Replaces the job's searchable texts, guarded by its lease: running it twice leaves one copy.
    func replaceSearchEntries(_ lease: Lease, path: String, entries: [SearchEntry], media: SearchMedia) async throws
}

extension PipelineStore {
    /// Checkpoints a stage's value as JSON with sorted keys (what ``Checkpoint/decode(_:)`` reads).
    public func checkpoint<T: Encodable>(_ lease: Lease, stage: Stage, encoding value: T, startedAt: Date?) async throws {
        try await checkpoint(lease, stage: stage, result: try Checkpoint.encode(value), fileRef: nil, startedAt: startedAt)
    }
}

extension JobStore: PipelineStore {
    public var location: String { path }

    public func rescan(paths: [String], identity: JobIdentity, cache: JobStore) throws -> RescanReport {
        // This store is its own stat cache.
        try rescan(paths: paths, identity: identity)
    }
}
