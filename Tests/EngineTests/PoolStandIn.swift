import Foundation
@testable import Engine

/// One server of a pool under test: Python's threaded http.server in a child process on 127.0.0.1, speaking
/// just enough of the OpenAI API (`/v1/models`, `/v1/chat/completions`). It records the last message of every
/// chat request (`texts()`), can answer slowly, wrongly or not at all, and can be killed with SIGKILL and
/// started again on the same port.
final class PoolStandIn: @unchecked Sendable {
    enum Mode: String {
        case ok
        /// 401 on everything: a key the server refuses.
        case refuseAll = "401"
        /// Lists its model, then refuses chat requests with 401.
        case refuseChat = "401chat"
        /// Answers every chat with text that is not JSON (the model's fault, not the server's).
        case invalidOutput = "invalid"
        /// 500 on every chat request.
        case serverError = "500"
    }

    let model: String
    let mode: Mode
    /// Seconds each chat answer waits (a slow server).
    let delay: Double
    private(set) var port = 0
    private var process: Process?

    init(model: String = "gemma-3n", mode: Mode = .ok, delay: Double = 0) throws {
        self.model = model
        self.mode = mode
        self.delay = delay
        try start()
    }

    var url: String { "http://127.0.0.1:\(port)/v1" }

    /// Starts the server: on a port the kernel picks the first time, on the same port after `kill()`.
    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", Self.program, String(port), model, mode.rawValue, String(delay)]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var line = Data()
        while let b = try out.fileHandleForReading.read(upToCount: 1), !b.isEmpty, b != Data("\n".utf8) { line += b }
        guard let bound = Int(String(decoding: line, as: UTF8.self)) else {
            Foundation.kill(p.processIdentifier, SIGKILL)
            throw EngineError.serverFailed(reason: "the pool stand-in printed no port", logTail: "")
        }
        port = bound
        process = p
    }

    /// SIGKILL, as a crashed server: connections in flight drop, new ones are refused.
    func kill() {
        guard let p = process, p.isRunning else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// The last message of every chat request it received, in order (the user text, or the repair request).
    func texts() async throws -> [String] {
        let http = HTTPTransport(configuration: OpenAIConfiguration(baseURL: url, preset: .generic, apiKey: nil))
        let reply = try await http.send("/received", body: nil, retries: 0)
        return try JSONValue.parse(reply.body)["texts"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    func requestCount() async throws -> Int { try await texts().count }

    deinit { kill() }

    private static let program = #"""
    import http.server, json, sys, threading, time
    port, model, mode, delay = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    seen, lock = [], threading.Lock()
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        def do_GET(self):
            if self.path.endswith("/models"):
                if mode == "401": return self.reply(401, {"error": {"message": "invalid api key"}})
                return self.reply(200, {"object": "list", "data": [{"id": model, "object": "model"}]})
            with lock: texts = list(seen)
            self.reply(200, {"texts": texts})
        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            msgs = req.get("messages") or [{}]
            text = msgs[-1].get("content", "")
            with lock: seen.append(text if isinstance(text, str) else json.dumps(text))
            if delay: time.sleep(delay)
            if mode in ("401", "401chat"): return self.reply(401, {"error": {"message": "invalid api key"}})
            if mode == "500": return self.reply(500, {"error": {"message": "scripted 500"}})
            content = "this is not json at all" if mode == "invalid" else json.dumps({"ok": True, "port": port})
            self.reply(200, {"choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 5, "completion_tokens": 3}})
    s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    s.daemon_threads = True
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#
}
