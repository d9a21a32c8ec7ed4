import Foundation
import PostgresNIO
import Store

extension PostgresJobStore {
    /// Runs one call to the database with a deadline: an answer, an error, or after `options.answerSeconds` a
    /// ``StoreError/database(path:detail:)`` saying there was none. A worker cut off from the database, or one
    /// whose server restarted while it was cut off, was seen waiting on the pool forever; with a deadline it
    /// fails the call, keeps its heartbeats going and stops when told. The pool that did not answer is replaced,
    /// so calls after it connect afresh. The abandoned call is cancelled and ends whenever its connection does.
    ///
    /// The call runs in a task of its own, so that its caller can be answered while it hangs; the deadlines of
    /// all calls are kept by the store's one ``Watchdog`` rather than a timer task per call.
    func answered<T: Sendable>(by client: PostgresClient, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        guard options.answerSeconds > 0 else { return try await operation() }  // no deadline (benchmarks compare)
        let call = PendingCall<T>()
        let seconds = options.answerSeconds
        let location = self.location
        let slot = self.slot
        let watch = watchdog.watch(for: seconds) {
            // The pool goes before the caller resumes: its next call must not meet the pool being shut down.
            call.finish(.failure(StoreError.database(path: location, detail: "no answer within \(Int(seconds)) s"))) {
                slot.replace(client)
            }
        }
        defer { watchdog.release(watch) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                call.start(continuation, work: Task { call.finish(await Result { try await operation() }) })
            }
        } onCancel: {
            call.finish(.failure(CancellationError()))
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// One call in flight: whichever comes first (its answer, the deadline, the caller's cancellation) resumes the
/// caller, once; the work is cancelled if it was not what finished.
final class PendingCall<T: Sendable>: @unchecked Sendable {
    // @unchecked: every field is only touched under `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var work: Task<Void, Never>?
    private var outcome: Result<T, any Error>?

    func start(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, Never>) {
        let early: Result<T, any Error>? = lock.withLock {
            self.work = work
            if let outcome { return outcome }  // finished (or cancelled) before it started
            self.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early); work.cancel() }
    }

    /// Resumes the caller with `result` if nothing did yet, running `first` just before; returns whether this
    /// call did.
    @discardableResult
    func finish(_ result: Result<T, any Error>, first beforeResuming: (() -> Void)? = nil) -> Bool {
        let (waiting, work, first): (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Bool) = lock.withLock {
            guard outcome == nil else { return (nil, nil, false) }
            outcome = result
            defer { continuation = nil }
            return (continuation, self.work, true)
        }
        guard first else { return false }
        beforeResuming?()
        waiting?.resume(with: result)
        work?.cancel()
        return true
    }
}

/// The deadlines of a store's calls in flight, kept by one task that wakes every `tick` while any call is
/// watched and ends when none is (the next call starts it again). A deadline is met within one tick: with
/// 30 s deadlines, a quarter second late is nothing, and thousands of calls a second cost a table entry each
/// instead of a sleeping task each.
final class Watchdog: @unchecked Sendable {
    // @unchecked: every field is only touched under `lock`.
    private struct Watched {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }
    private let lock = NSLock()
    private let tick: Duration
    private var watched: [UInt64: Watched] = [:]
    private var nextID: UInt64 = 0
    private var ticking = false

    init(tick: Duration = .milliseconds(250)) { self.tick = tick }

    /// Calls `expire` once `seconds` have passed, unless ``release(_:)`` came first.
    func watch(for seconds: TimeInterval, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let (id, start): (UInt64, Bool) = lock.withLock {
            nextID += 1
            watched[nextID] = Watched(deadline: deadline, expire: expire)
            defer { ticking = true }
            return (nextID, !ticking)
        }
        if start { Task { await self.run() } }
        return id
    }

    func release(_ id: UInt64) { _ = lock.withLock { watched.removeValue(forKey: id) } }

    /// How many calls are watched now (tests).
    var count: Int { lock.withLock { watched.count } }

    private func run() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (due, idle): ([@Sendable () -> Void], Bool) = lock.withLock {
                let due = watched.filter { $0.value.deadline <= now }
                for id in due.keys { watched.removeValue(forKey: id) }
                if watched.isEmpty { ticking = false }
                return (due.values.map(\.expire), watched.isEmpty)
            }
            for expire in due { expire() }  // outside the lock: expiring replaces the pool
            if idle { return }
        }
    }
}
