import Foundation

/// How long a server that failed is left alone before the pool tries it again.
public struct PoolPolicy: Sendable, Codable, Hashable {
    /// The first cool-down after a failure; each failed retry doubles it, a success resets it.
    public var initialCoolDown: Duration
    /// The longest cool-down: a server that stays down is still retried this often.
    public var maxCoolDown: Duration

    public init(initialCoolDown: Duration = .seconds(5), maxCoolDown: Duration = .seconds(300)) {
        self.initialCoolDown = initialCoolDown
        self.maxCoolDown = max(initialCoolDown, maxCoolDown)
    }
}
