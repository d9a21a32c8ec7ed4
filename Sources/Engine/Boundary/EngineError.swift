import Foundation

/// Everything that can go wrong between a caller and an engine, each case saying what to do next.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server could not be reached at all (refused, reset, DNS, connect timeout).
    case unreachable(server: String, url: String, reason: String)
    /// The connection dropped while a request was in flight (server crashed or was killed).
    case connectionLost(url: String, reason: String)
    /// No complete answer within the per-request timeout.
    case timedOut(url: String, seconds: Double)
    /// The server answered with an HTTP error that retries did not fix.
    case httpStatus(url: String, status: Int, body: String)
    /// The server's answer was not the OpenAI chat-completions shape.
    case malformedResponse(url: String, reason: String)
    /// Text that should have been JSON was not.
    case invalidJSON(reason: String)
    /// The model's output stayed invalid (not JSON, truncated, or against the schema) after the repair attempt.
    /// `attempts` counts the model calls made (2: the answer and the one re-ask).
    case invalidOutput(reason: String, truncated: Bool, output: String, attempts: Int)
    /// The request needs more tokens than the engine's context holds; split the work (see `TokenPlanner.split`).
    case doesNotFit(needed: Int, available: Int, detail: String)
    /// The request uses an input kind or count the engine does not take.
    case unsupportedInput(String)
    /// A request part is malformed (e.g. audio longer than the engine's per-clip limit).
    case invalidRequest(String)
    /// The local llama-server could not be started or kept alive.
    case serverFailed(reason: String, logTail: String)
    /// A required local file (binary, model) is missing.
    case missingFile(path: String, hint: String)
    /// OCR failed on an image.
    case ocrFailed(String)

    public var description: String {
        switch self {
        case .unreachable(let server, let url, let reason):
            return "cannot reach the engine at \(url) (\(reason)). Is \(server) running at \(url)? Start it, or pass --base-url."
        case .connectionLost(let url, let reason):
            return "the connection to \(url) was lost mid-request (\(reason)); the server may have crashed or been stopped."
        case .timedOut(let url, let seconds):
            return "no answer from \(url) within \(Int(seconds)) s; raise --timeout or use a smaller model."
        case .httpStatus(let url, let status, let body):
            return "\(url) answered HTTP \(status): \(body.prefix(300))"
        case .malformedResponse(let url, let reason):
            return "\(url) did not answer like an OpenAI-compatible server: \(reason)"
        case .invalidJSON(let reason):
            return "not valid JSON: \(reason)"
        case .invalidOutput(let reason, let truncated, let output, let attempts):
            return "the model's output is not valid for the schema\(truncated ? " (cut off by max tokens)" : "") after \(attempts) attempts (one repair): \(reason). Output began: \(output.prefix(200)). Raise max tokens or simplify the schema."
        case .doesNotFit(let needed, let available, let detail):
            return "the request needs \(needed) tokens but the engine has \(available): \(detail). Split the input into smaller chunks."
        case .unsupportedInput(let what):
            return "the engine does not take \(what); check `recap engine check` or override capabilities."
        case .invalidRequest(let why):
            return "invalid engine request: \(why)"
        case .serverFailed(let reason, let logTail):
            return "llama-server failed: \(reason)" + (logTail.isEmpty ? "" : "\n--- last lines of its log ---\n\(logTail)")
        case .missingFile(let path, let hint):
            return "missing \(path): \(hint)"
        case .ocrFailed(let why):
            return "OCR failed: \(why)"
        }
    }

    /// Worth retrying after a backoff (the local supervisor may have restarted the server meanwhile).
    var isTransient: Bool {
        switch self {
        case .unreachable, .connectionLost: return true
        case .httpStatus(_, let status, _): return status == 429 || (500...599).contains(status)
        default: return false
        }
    }
}
