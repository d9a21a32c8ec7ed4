import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Synchronization

/// JSON over HTTP with the retry policy every engine call shares: exponential backoff on connection errors,
/// 429 and 5xx, honouring `Retry-After`; typed errors; task cancellation cancels the request in flight.
struct HTTPTransport: Sendable {
    let client: HTTPClient
    let configuration: OpenAIConfiguration

    init(configuration: OpenAIConfiguration) {
        self.configuration = configuration
        self.client = Self.sharedClient(connectTimeout: configuration.connectTimeout)
    }

    /// One HTTP client per connect timeout for the whole process, never shut down: engines are values that
    /// callers copy and drop freely, and an HTTPClient dropped without `shutdown()` is a bug AHC traps on.
    private static let clients = Mutex<[Int64: HTTPClient]>([:])

    private static func sharedClient(connectTimeout: Duration) -> HTTPClient {
        let key = nanos(connectTimeout)
        return clients.withLock { clients in
            if let c = clients[key] { return c }
            var http = HTTPClient.Configuration(timeout: .init(connect: .nanoseconds(key), read: nil))
            // Fail fast on "connection refused": our own retry loop decides when to try again, so an absent
            // server is reported after a few seconds, not at the request deadline.
            http.connectionPool.retryConnectionEstablishment = false
            http.httpVersion = .http1Only
            let c = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
            clients[key] = c
            return c
        }
    }

    struct Reply: Sendable {
        var status: Int
        var body: Data
        /// Wall time of this exchange.
        var seconds: Double
        var retryAfter: Duration?
        /// The server's id for the request (`x-request-id`), for its logs.
        var requestID: String? = nil
    }

    /// What an error body says, in short: its JSON `error.message`, `error`, `message` or `detail`, else its
    /// first line; at most 200 characters.
    static func shortReason(_ body: Data) -> String {
        var text: String?
        if let j = try? JSONValue.parse(body) {
            text = j["error"]?["message"]?.stringValue ?? j["error"]?.stringValue ?? j["message"]?.stringValue
                ?? j["detail"]?.stringValue
        }
        let raw = text ?? String(decoding: body.prefix(4096), as: UTF8.self)
        let line = raw.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let short = line.trimmingCharacters(in: .whitespaces)
        return short.isEmpty ? "no reason given" : String(short.prefix(200))
    }

    /// POSTs (or GETs, with a nil body) and returns a 2xx reply, retrying transient failures.
    /// `retries` overrides the configuration's count (0 for probes).
    func send(_ path: String, body: Data?, root: Bool = false, retries: Int? = nil,
              timeout: Duration? = nil) async throws -> Reply {
        let url = (root ? configuration.serverRoot : configuration.baseURL) + path
        let maxRetries = retries ?? configuration.maxRetries
        var attempt = 0
        while true {
            try Task.checkCancellation()
            var retryAfter: Duration? = nil
            let failure: EngineError
            do {
                let reply = try await once(url: url, body: body, timeout: timeout ?? configuration.requestTimeout)
                if (200..<300).contains(reply.status) { return reply }
                // Servers echo requests in errors: what they say passes through redaction before it can reach
                // stderr, the run summary or the store.
                // Only a short reason and the request id are kept, never the raw body.
                var reason = Redaction.redact(Self.shortReason(reply.body), key: configuration.apiKey)
                if let id = reply.requestID { reason += " (request id \(Redaction.redact(id, key: configuration.apiKey)))" }
                failure = .httpStatus(url: url, status: reply.status, body: reason)
                retryAfter = reply.retryAfter
            } catch let e as EngineError {
                failure = e
            }
            guard failure.isTransient, attempt < maxRetries,
                  configuration.retriesConnectionFailures || !failure.isConnectionFailure else { throw failure }
            let backoff = min(configuration.initialBackoff * (1 << min(attempt, 16)), configuration.maxBackoff)
            // Retry-After is honoured up to a minute; beyond that the server is not coming back soon.
            try await Task.sleep(for: min(retryAfter ?? backoff, .seconds(60)))
            attempt += 1
        }
    }

    /// Largest answer read: a chat completion is kilobytes; a server sending more is broken, and reading it
    /// all would only cost memory.
    static let maxAnswerBytes = 16 << 20

    /// One exchange, headers and body, within `timeout`: a server that trickles its body is cut off at the
    /// deadline like one that never answers.
    private func once(url: String, body: Data?, timeout: Duration) async throws -> Reply {
        try await withThrowingTaskGroup(of: Reply?.self) { group in
            group.addTask { try await exchange(url: url, body: body, timeout: timeout) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let reply = first else {
                throw EngineError.timedOut(url: url, seconds: timeout.seconds)
            }
            return reply
        }
    }

    private func exchange(url: String, body: Data?, timeout: Duration) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = body == nil ? .GET : .POST
        request.headers.add(name: "Accept", value: "application/json")
        if let key = configuration.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let start = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Self.nanos(timeout)))
            var buffer: ByteBuffer
            do { buffer = try await response.body.collect(upTo: Self.maxAnswerBytes) } catch is NIOTooManyBytesError {
                throw EngineError.malformedResponse(url: url, reason: "the answer is larger than \(Self.maxAnswerBytes >> 20) MB")
            }
            let data = buffer.readData(length: buffer.readableBytes) ?? Data()
            let elapsed = (ContinuousClock.now - start).seconds
            return Reply(status: Int(response.status.code), body: data, seconds: elapsed,
                         retryAfter: Self.retryAfter(response.headers["Retry-After"].first),
                         requestID: response.headers["x-request-id"].first ?? response.headers["request-id"].first)
        } catch let e as EngineError {
            throw e
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError where error == .cancelled {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw classify(error, url: url, timeout: timeout)
        }
    }

    /// Connection-level failures, told apart by whether the server was ever reached.
    private func classify(_ error: any Error, url: String, timeout: Duration) -> EngineError {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return .timedOut(url: url, seconds: timeout.seconds)
            case .remoteConnectionClosed:
                return .connectionLost(url: url, reason: "the server closed the connection")
            case .connectTimeout:
                return .unreachable(server: configuration.serverName, url: configuration.baseURL, reason: "connect timed out")
            default:
                break
            }
        }
        if let io = error as? IOError, [ECONNRESET, EPIPE].contains(io.errnoCode) {
            return .connectionLost(url: url, reason: "connection reset")
        }
        let text = Redaction.redact(String(describing: error), key: configuration.apiKey)
        if text.localizedCaseInsensitiveContains("reset by peer") || text.contains("ECONNRESET") {
            return .connectionLost(url: url, reason: "connection reset")
        }
        let reason = text.localizedCaseInsensitiveContains("refused") ? "connection refused" : text
        return .unreachable(server: configuration.serverName, url: configuration.baseURL, reason: reason)
    }

    /// Seconds ("3") or an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let s = Double(value) { return .milliseconds(Int(max(0, s) * 1000)) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        if let date = f.date(from: value) { return .milliseconds(Int(max(0, date.timeIntervalSinceNow) * 1000)) }
        return nil
    }

    /// Nothing to release per engine: the client is shared and idle connections time out on their own.
    func shutdown() async {}

    static func nanos(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
