import Foundation

/// Where the store reads "now" from: leases, backoff and timings. Tests inject ``ManualClock`` to
/// expire leases and elapse backoffs without sleeping.
public protocol StoreClock: Sendable {
    func now() -> Date
}

/// The wall clock. Leases compare times written by different processes on the same machine, so a
/// wall clock (not a monotonic one) is the right shared reference.
public struct SystemClock: StoreClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to.
public final class ManualClock: StoreClock, @unchecked Sendable {
    // @unchecked: `current` is only touched under `lock`.
    private let lock = NSLock()
    private var current: Date
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    public func now() -> Date { lock.withLock { current } }
    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
    public func set(_ date: Date) { lock.withLock { current = date } }
}
