import Foundation

/// How failed attempts are retried: exponential backoff with jitter, up to `maxAttempts`, then dead.
///
/// Attempt n (1-based) that fails waits `min(maxDelay, baseDelay × 2^(n-1))`, scaled by a random
/// factor in `[1 - jitter, 1]` so that many files failing together (engine down) do not all come
/// back at the same instant.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    /// 0 = no jitter, 1 = anywhere between 0 and the full delay.
    public var jitter: Double

    public init(maxAttempts: Int = 4, baseDelay: TimeInterval = 30, maxDelay: TimeInterval = 3600, jitter: Double = 0.5) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(1, max(0, jitter))
    }

    public static let `default` = RetryPolicy()

    /// The un-jittered delay after failed attempt `attempt` (1-based).
    public func nominalDelay(afterAttempt attempt: Int) -> TimeInterval {
        let exponent = Double(max(0, min(attempt - 1, 62)))
        return min(maxDelay, baseDelay * pow(2, exponent))
    }

    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> TimeInterval {
        nominalDelay(afterAttempt: attempt) * (1 - jitter * random)
    }
}
