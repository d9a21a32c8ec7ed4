import Foundation

extension EngineError {
    /// The server, not the request or the model, failed: unreachable, the connection dropped, no answer in
    /// time, or 429/5xx after the endpoint's own retries. The pool takes that server out and sends the same
    /// request to another. Everything else is an answer that another server would give too: a refused key
    /// (401/403, a configuration error), a rejected request (4xx), output against the schema (the model's
    /// answer), a request that does not fit.
    var isServerFault: Bool {
        switch self {
        case .unreachable, .connectionLost, .timedOut, .serverFailed: return true
        case .httpStatus(_, let status, _): return status == 429 || (500...599).contains(status)
        default: return false
        }
    }

    /// Failures of the connection itself, as opposed to an HTTP answer.
    var isConnectionFailure: Bool {
        switch self {
        case .unreachable, .connectionLost: return true
        default: return false
        }
    }
}

/// The pool could not be set up as asked. A configuration error (exit 1), not an unavailable engine.
public struct EnginePoolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    /// A server serves other models than the pool's: its answers would be filed under the wrong model.
    /// The names are the server's words, so they pass through redaction like any other server text.
    static func modelMismatch(endpoint: String, serves: [String], expected: String, from: String, key: String?) -> EnginePoolError {
        let list = Redaction.redact(serves.isEmpty ? "no models" : serves.prefix(5).joined(separator: ", "), key: key)
        return EnginePoolError(description: "the engine servers do not serve the same model: \(endpoint) serves \(list), not \(expected) (\(from == "--model" ? "named by --model" : "served by \(from)")). Give servers that serve the same model, or name it with --model.")
    }
}
