import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import Web
#if canImport(Glibc)
import Glibc
#endif

/// `recap serve`'s server, in this process, on a free port.
final class RunningServer: Sendable {
    let url: URL
    private let task: Task<Void, any Error>
    private let stopSwitch: StopSwitch

    private init(url: URL, task: Task<Void, any Error>, stop: StopSwitch) { self.url = url; self.task = task; self.stopSwitch = stop }

    static func start(_ fixture: Fixture, searcher: (any ArchiveSearcher)? = nil, review: Bool = false) async throws -> RunningServer {
        var server = WebServer(archive: fixture.archive, searcher: searcher ?? HybridSearcher(store: fixture.store, embedder: nil, modelID: nil),
                               host: "127.0.0.1", port: 0)
        server.review = review
        let (urls, continuation) = AsyncStream<URL>.makeStream()
        let stop = StopSwitch()
        let task = Task {
            defer { continuation.finish() }
            try await server.run(handleSignals: false, stop: stop) { continuation.yield($0) }
        }
        var it = urls.makeAsyncIterator()
        guard let url = await it.next() else {
            let outcome = await task.result
            throw FixtureError("the server stopped before it listened: \(outcome)")
        }
        return RunningServer(url: url, task: task, stop: stop)
    }

    /// Graceful shutdown; the server's task must then end without an error.
    func stop() async {
        stopSwitch.fire()
        if case .failure(let error) = await task.result { Issue.record("the server ended with \(error)") }
    }

    /// A form post (application/x-www-form-urlencoded), redirects not followed.
    func post(_ path: String, form: [(String, String)], headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString.dropLast() + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let data = try await response.body.collect(upTo: 1 << 20)
            try await client.shutdown()
            return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: data))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// `path` may carry a query; it is appended to the base URL as text.
    func get(_ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString.dropLast() + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }
}

struct Reply {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Sends one request line exactly as written (no client normalises `..` or percent escapes away) and returns
/// the status code and the whole answer.
func rawRequest(_ base: URL, _ line: String) throws -> (status: Int, text: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
    defer { close(fd) }
    var tv = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(base.port ?? 80).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard ok == 0 else { throw FixtureError("connect: \(errno)") }
    let request = Array("\(line)\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var answer = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        answer += buffer[0..<n]
    }
    let text = String(decoding: answer, as: UTF8.self)
    let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
    return (status, text)
}

/// Where tests leave files for people to look at: $RECAP_TEST_ARTIFACTS, else `.build/test-artifacts/`.
func artifactsFolder() throws -> URL {
    let env = ProcessInfo.processInfo.environment["RECAP_TEST_ARTIFACTS"].flatMap { $0.isEmpty ? nil : $0 }
    let u = env.map { URL(fileURLWithPath: $0, isDirectory: true) }
        ?? repoRoot.appendingPathComponent(".build/test-artifacts", isDirectory: true)
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}
