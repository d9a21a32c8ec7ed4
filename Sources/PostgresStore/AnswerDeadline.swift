import Foundation
import PostgresNIO
import Store

extension PostgresJobStore {
    /// Runs one call to the database with a deadline: an answer, an error, or after `options.answerSeconds` a
    /// ``StoreError/database(path:detail:)`` saying there was none. A worker cut off from the database, or one
    /// whose server restarted while it was cut off, was seen waiting on the pool forever; with a deadline it
    /// fails the call, keeps its heartbeats going and stops when told. The pool that did not answer is replaced,
    /// so calls after it connect afresh. The abandoned call is cancelled and ends whenever its connection does.
    func answered<T: Sendable>(by client: PostgresClient, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        guard options.answerSeconds > 0 else { return try await operation() }  // no deadline (benchmarks compare)
        let call = PendingCall<T>()
        let seconds = options.answerSeconds
        let location = self.location
        let slot = self.slot
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                call.start(continuation, work: Task { call.finish(await Result { try await operation() }) },
                           timer: Task {
                               try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                               guard !Task.isCancelled else { return }
                               if call.finish(.failure(StoreError.database(path: location, detail: "no answer within \(Int(seconds)) s"))) {
                                   slot.replace(client)
                               }
                           })
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
/// caller, once; the others are cancelled.
final class PendingCall<T: Sendable>: @unchecked Sendable {
    // @unchecked: every field is only touched under `lock`.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var work: Task<Void, Never>?
    private var timer: Task<Void, Never>?
    private var outcome: Result<T, any Error>?

    func start(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, Never>, timer: Task<Void, Never>) {
        let early: Result<T, any Error>? = lock.withLock {
            self.work = work; self.timer = timer
            if let outcome { return outcome }  // finished (or cancelled) before it started
            self.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early); work.cancel(); timer.cancel() }
    }

    /// Resumes the caller with `result` if nothing did yet; returns whether this call did.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (waiting, work, timer, first): (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?, Bool) = lock.withLock {
            guard outcome == nil else { return (nil, nil, nil, false) }
            outcome = result
            defer { continuation = nil }
            return (continuation, self.work, self.timer, true)
        }
        guard first else { return false }
        waiting?.resume(with: result)
        work?.cancel()
        timer?.cancel()
        return true
    }
}
