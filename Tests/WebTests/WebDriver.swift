import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
#if canImport(Glibc)
import Glibc
#endif

/// A minimal W3C WebDriver client (no Selenium): starts `chromedriver` as a child process and speaks its
/// HTTP protocol with AsyncHTTPClient. Enough for one headless Chromium session: navigate, find, click,
/// run a script, take a screenshot.
final class WebDriver: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]

    let process: Process
    let base: String
    let session: String

    /// Starts chromedriver on a free port and opens a headless Chromium session. Missing binaries are an
    /// error, not a skip: `scripts/install-debian.sh` installs both (Debian's `chromium chromium-driver`).
    static func start(log: URL) async throws -> WebDriver {
        let fm = FileManager.default
        guard let browser = chromium.first(where: fm.isExecutableFile(atPath:)) else {
            throw Failure(description: "Chromium is not installed (looked for \(chromium)); run scripts/install-debian.sh or `apt-get install -y chromium chromium-driver`")
        }
        guard let driver = chromedriver.first(where: fm.isExecutableFile(atPath:)) else {
            throw Failure(description: "chromedriver is not installed (looked for \(chromedriver)); run scripts/install-debian.sh or `apt-get install -y chromium-driver`")
        }
        let port = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: driver)
        p.arguments = ["--port=\(port)", "--log-path=\(log.path)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let base = "http://127.0.0.1:\(port)"
        // Bounded wait for the driver to answer /status.
        var ready = false
        for _ in 0..<100 {
            if let status = try? await call("GET", base + "/status"), (status["value"] as? [String: Any])?["ready"] as? Bool == true { ready = true; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard ready else {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw Failure(description: "chromedriver did not become ready within 10 s (log: \(log.path))")
        }
        let caps: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": [
                "binary": browser,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                         "--disable-dev-shm-usage", "--window-size=1280,860", "--mute-audio"],
            ],
        ]]]
        do {
            let answer = try await call("POST", base + "/session", caps)
            guard let id = (answer["value"] as? [String: Any])?["sessionId"] as? String else {
                throw Failure(description: "no session id in \(answer)")
            }
            return WebDriver(process: p, base: base, session: id)
        } catch {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw error
        }
    }

    private init(process: Process, base: String, session: String) {
        self.process = process; self.base = base; self.session = session
    }

    func quit() async {
        _ = try? await Self.call("DELETE", "\(base)/session/\(session)")  // closes the browser
        // SIGKILL: chromedriver was seen to outlive SIGTERM here (the test process may hand it an ignored SIGTERM).
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func navigate(_ url: String) async throws { _ = try await command("POST", "url", ["url": url]) }

    func currentURL() async throws -> String { try await command("GET", "url") as? String ?? "" }

    /// The first element matching a CSS selector.
    func find(_ css: String) async throws -> String {
        let v = try await command("POST", "element", ["using": "css selector", "value": css])
        guard let el = (v as? [String: Any])?["element-6066-11e4-a52e-4f735466cecf"] as? String else {
            throw Failure(description: "no element matches \(css)")
        }
        return el
    }

    func click(_ element: String) async throws { _ = try await command("POST", "element/\(element)/click", [:]) }

    func attribute(_ element: String, _ name: String) async throws -> String? {
        try await command("GET", "element/\(element)/attribute/\(name)") as? String
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    func execute(_ script: String) async throws -> Any? {
        try await command("POST", "execute/sync", ["script": script, "args": []])
    }

    /// Polls `script` until it returns true, at most `attempts` times 100 ms apart; the failure names `what`.
    func waitUntil(_ what: String, attempts: Int = 300, _ script: String) async throws {
        for _ in 0..<attempts {
            if try await execute(script) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "timed out waiting for \(what)")
    }

    func screenshotPNG() async throws -> Data {
        guard let b64 = try await command("GET", "screenshot") as? String, let data = Data(base64Encoded: b64) else {
            throw Failure(description: "no screenshot data")
        }
        return data
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await Self.call(method, "\(base)/session/\(session)/\(path)", body)["value"]
    }

    /// One WebDriver call; a WebDriver error (`value.error`) is thrown with its message.
    @discardableResult
    static func call(_ method: String, _ url: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data(buffer: try await response.body.collect(upTo: 32 << 20))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "\(method) \(url): not a JSON object")
        }
        if let value = json["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "\(method) \(url): \(error): \(value["message"] as? String ?? "")")
        }
        return json
    }

    /// A port nobody listens on now (bound to 0, read back, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Failure(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
