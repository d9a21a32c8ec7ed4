import Foundation

/// The job queue a worker needs, whatever holds it: the SQLite ``JobStore`` for one host, or PostgreSQL
/// (`PostgresStore.PostgresJobStore`) for workers on many. Both pass one contract suite
/// (Tests/StoreContractTests), so a worker written against this protocol behaves the same on either.
///
/// Semantics every implementation keeps:
/// - enqueue is idempotent by (fingerprint, pipeline, version, engine);
/// - a claim hands out a ``Lease`` with a fencing token; every later write for that job presents it and
///   throws ``StoreError/leaseLost(jobID:detail:)`` once the job was taken over, cancelled or finished;
/// - leases expire by the store's clock, never the worker's; an expired lease counts as a failed attempt;
/// - failures back off per ``RetryPolicy`` and go `dead` when attempts run out;
/// - a heartbeat keeps a slow job its worker's, however long it runs.
///
/// Requirements carry no default arguments (protocols cannot); the SQLite store keeps its own defaults.
public protocol JobQueue: Sendable {
    // MARK: Producer
    @discardableResult
    func enqueue(_ requests: [EnqueueRequest]) async throws -> [EnqueueResult]

    // MARK: Worker
    /// The next ready job (expired leases first, then by `notBefore`), or nil.
    func claim(owner: String, identity: JobIdentity?, leaseDuration: TimeInterval?) async throws -> ClaimedJob?
    /// One named job, if it is claimable now; a degraded job is, whatever its backoff.
    func claim(jobID: Int64, owner: String, leaseDuration: TimeInterval?) async throws -> ClaimedJob?
    @discardableResult
    func heartbeat(_ lease: Lease) async throws -> Lease
    func checkpoint(_ lease: Lease, stage: Stage, result: Data?, fileRef: String?, startedAt: Date?) async throws
    func complete(_ lease: Lease, result: Data?) async throws
    /// Outputs written, but the model part never got a usable answer: the job is `degraded`, to be redone
    /// from the `redo` stages (their checkpoints are deleted) by the next run, or by a worker after a backoff.
    func complete(_ lease: Lease, result: Data?, degraded reason: String, redo: [Stage]) async throws
    @discardableResult
    func fail(_ lease: Lease, stage: Stage?, message: String, retryable: Bool) async throws -> JobState
    /// Gives the job back without counting the attempt. Does nothing if the lease was already lost.
    func release(_ lease: Lease) async throws

    // MARK: Operator
    func job(_ id: Int64) async throws -> Job?
    func jobs(state: JobState?, limit: Int) async throws -> [Job]
    func checkpoints(jobID: Int64) async throws -> [Stage: Checkpoint]
    func attempts(jobID: Int64) async throws -> [Attempt]
    func counts(identity: JobIdentity?) async throws -> [JobState: Int]
    @discardableResult
    func retry(ids: [Int64], states: Set<JobState>) async throws -> Int
    func cancel(_ id: Int64) async throws

    // MARK: Worker registry (liveness for `recap status`)
    /// Registers a starting worker; the id is new, never one a previous worker had.
    func registerWorker(name: String, host: String, pid: Int) async throws -> Int64
    /// Says the worker is alive, with its totals so far (not increments: a repeated heartbeat is harmless).
    func workerHeartbeat(_ id: Int64, jobsDone: Int, failures: Int) async throws
    /// Every registered worker, most recently heard from first.
    func workers() async throws -> [WorkerRecord]

    // MARK: Retention
    /// Deletes jobs in `states` (of succeeded, dead and cancelled; others are ignored) that finished more than
    /// `horizon` seconds ago, with their checkpoints and attempts, and workers not heard from for as long.
    /// Returns how many jobs went. A pruned file's next scan makes a new job: keep the horizon longer than
    /// files stay around, or prune succeeded jobs only when their files are gone.
    @discardableResult
    func pruneFinished(olderThan horizon: TimeInterval, states: Set<JobState>) async throws -> Int

    /// Shrinks succeeded jobs that finished more than `horizon` seconds ago without forgetting them: the job
    /// row stays (it is what keeps an unchanged file from being processed again) and so do its stages'
    /// timings, but the stages' saved results (transcripts, captions: most of a store's size) are dropped,
    /// with every attempt but the one that succeeded. Returns how many jobs lost something.
    @discardableResult
    func compactSucceeded(olderThan horizon: TimeInterval) async throws -> Int
}

extension JobQueue {
    /// ``pruneFinished(olderThan:states:)`` of every finished state.
    @discardableResult
    public func pruneFinished(olderThan horizon: TimeInterval) async throws -> Int {
        try await pruneFinished(olderThan: horizon, states: [.succeeded, .dead, .cancelled])
    }
}

extension JobStore: JobQueue {}

extension JobQueue {
    /// Runs `body` while a child task heartbeats the lease every third of its duration, for any queue. If the
    /// lease is lost, `body` is cancelled and ``StoreError/leaseLost(jobID:detail:)`` is thrown: the worker
    /// must drop the job without writing.
    public func withLeaseHeartbeat<T: Sendable>(
        _ lease: Lease, every interval: TimeInterval? = nil, _ body: @Sendable @escaping () async throws -> T
    ) async throws -> T {
        let period = interval ?? max(0.01, lease.duration / 3)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                var current = lease
                while true {
                    try await Task.sleep(nanoseconds: UInt64(period * 1_000_000_000))
                    current = try await self.heartbeat(current)
                }
            }
            defer { group.cancelAll() }
            guard let value = try await group.next() ?? nil else {
                throw StoreError.leaseLost(jobID: lease.jobID, detail: "heartbeat stopped")
            }
            return value
        }
    }
}
