import Foundation
import PostgresStore
import Store
import Testing
import ThrowawayPostgres

/// The implementations the contract suite runs against. Each test takes one as its argument.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// Every lease, backoff and wait in these tests is this many times its written value. Times are real (the
/// database's clock), so a check like "not expired yet" holds only if the machine does not stall for a whole
/// lease between two statements: at 3×, a shared, loaded CI machine would need a stall of 1.5 s or more.
let timeScale = 3.0

/// A fast, jitter-free retry policy: backoffs of 0.5 s then 1 s (times `timeScale`), dead after the third attempt.
let fastRetry = RetryPolicy(maxAttempts: 3, baseDelay: 0.5 * timeScale, maxDelay: 10 * timeScale, jitter: 0)

/// A fresh, empty queue of `backend` for one test, and how to open it again (a process restart).
/// Times are real on both: the SQLite store's SystemClock, PostgreSQL's `now()`.
struct Harness: Sendable {
    let queue: any JobQueue
    let reopen: @Sendable () async throws -> any JobQueue
    let close: @Sendable () async -> Void
}

func makeHarness(_ backend: Backend, lease: TimeInterval, retry: RetryPolicy) async throws -> Harness {
    switch backend {
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recap-contract-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("store.sqlite").path
        let options = JobStore.Options(retryPolicy: retry, leaseDuration: lease)
        let store = try JobStore(path: path, options: options)
        return Harness(
            queue: store,
            reopen: { try JobStore(path: path, options: options) },
            close: { try? store.close(); try? FileManager.default.removeItem(at: folder) })
    case .postgres:
        let url = try TestCluster.shared.get().makeDatabase()
        let options = PostgresJobStore.Options(retryPolicy: retry, leaseDuration: lease, maxConnections: 20)
        let store = try await PostgresJobStore.open(url: url, options: options)
        let reopened = Reopened()
        return Harness(
            queue: store,
            reopen: {
                let again = try await PostgresJobStore.open(url: url, options: options)
                reopened.add(again)
                return again
            },
            close: {
                await store.close()
                for other in reopened.all() { await other.close() }
            })
    }
}

/// Runs `body` on a fresh queue of `backend` and closes it afterwards, also when `body` throws.
func withQueue(
    _ backend: Backend, lease: TimeInterval = 1 * timeScale, retry: RetryPolicy = fastRetry,
    _ body: (any JobQueue, Harness) async throws -> Void
) async throws {
    let harness = try await makeHarness(backend, lease: lease, retry: retry)
    do {
        try await body(harness.queue, harness)
    } catch {
        await harness.close()
        throw error
    }
    await harness.close()
}

final class Reopened: @unchecked Sendable {
    // @unchecked: `stores` is only touched under `lock`.
    private let lock = NSLock()
    private var stores: [PostgresJobStore] = []
    func add(_ store: PostgresJobStore) { lock.withLock { stores.append(store) } }
    func all() -> [PostgresJobStore] { lock.withLock { stores } }
}

let identity = JobIdentity(pipeline: "summarize", pipelineVersion: "1", engine: "local:test-model@1")

func request(_ n: Int, identity: JobIdentity = identity) -> EnqueueRequest {
    EnqueueRequest(fingerprint: "fp-\(n)", path: "/media/clip-\(n).mp4", identity: identity)
}

func sleep(seconds: Double) async throws { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }

/// Whether `body` throws ``StoreError/leaseLost(jobID:detail:)``.
func isLeaseLost(_ body: () async throws -> Void) async -> Bool {
    do { try await body(); return false } catch StoreError.leaseLost { return true } catch { return false }
}

// Shorthands with every argument spelled out: protocol requirements have no defaults.
extension JobQueue {
    func claimNext(_ owner: String, lease: TimeInterval? = nil, identity: JobIdentity? = nil) async throws -> ClaimedJob? {
        try await claim(owner: owner, identity: identity, leaseDuration: lease)
    }
    func save(_ lease: Lease, _ stage: Stage, _ text: String? = nil) async throws {
        try await checkpoint(lease, stage: stage, result: text.map { Data($0.utf8) }, fileRef: nil, startedAt: nil)
    }
    func finish(_ lease: Lease, _ text: String? = nil) async throws {
        try await complete(lease, result: text.map { Data($0.utf8) })
    }
    func total() async throws -> Int { try await counts(identity: nil).values.reduce(0, +) }
}
