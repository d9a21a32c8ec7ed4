import Foundation

/// One server of a pool, as the run's `--json` summary and `recap engine check` show it.
public struct EndpointReport: Sendable, Codable, Hashable {
    public var url: String
    /// Requests sent to it (each one counted once per server it was sent to).
    public var requests: Int
    /// Requests it failed (unreachable, dropped, timed out, 429/5xx after its own retries).
    public var failures: Int
    /// Times it was taken out for a cool-down.
    public var ejections: Int
    /// "healthy", "cooling down", "probing" or "retired: why".
    public var state: String
}

extension EnginePool {
    /// Each server's counts so far, in the order the servers were given.
    public func endpointReports() -> [EndpointReport] {
        board.mutex.withLock { board in
            board.endpoints.enumerated().map { i, e in
                let state: String
                switch e.state {
                case .healthy: state = "healthy"
                case .coolingDown: state = "cooling down"
                case .probing: state = "probing"
                case .retired(let why): state = "retired: \(why)"
                }
                return EndpointReport(url: members[i].configuration.baseURL, requests: e.sent, failures: e.failures,
                                      ejections: e.ejections, state: state)
            }
        }
    }
}
