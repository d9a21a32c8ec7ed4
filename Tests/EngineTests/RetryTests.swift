import Foundation
import Testing
@testable import Engine

/// A real HTTP server (Python's http.server in a child process) that answers with a scripted sequence of
/// statuses, to check the retry policy: 429 and 5xx are retried honouring Retry-After, 4xx are not.
final class ScriptedServer {
    let process = Process()
    let port: Int

    /// `script`: one (status, retryAfter) per request; after the script runs out, a valid chat completion.
    init(script: [(Int, String?)]) throws {
        port = try FreePort.find()
        let steps = try JSONValue(encoding: script.map { [String($0.0), $0.1 ?? ""] })
        let program = #"""
        import http.server, json, sys
        port, steps = int(sys.argv[1]), json.loads(sys.argv[2])
        seen = []
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                body = json.dumps({"requests": len(seen)}).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                i = len(seen); seen.append(i)
                if i < len(steps):
                    status, after = int(steps[i][0]), steps[i][1]
                    body = json.dumps({"error": {"message": "scripted %d" % status}}).encode()
                    self.send_response(status)
                    if after: self.send_header("Retry-After", after)
                else:
                    answer = json.dumps({"ok": True})
                    body = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                                       "usage": {"prompt_tokens": 5, "completion_tokens": 3}}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        s = http.server.HTTPServer(("127.0.0.1", port), H)
        print("ready", flush=True)
        s.serve_forever()
        """#
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program, String(port), steps.jsonString()]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        _ = out.fileHandleForReading.availableData  // "ready"
    }

    var url: String { "http://127.0.0.1:\(port)/v1" }

    func requestCount() async throws -> Int {
        let http = HTTPTransport(configuration: OpenAIConfiguration(baseURL: url, preset: .generic, apiKey: nil))
        let reply = try await http.send("/count", body: nil, retries: 0)
        return try JSONValue.parse(reply.body)["requests"]?.intValue ?? -1
    }

    deinit {
        // SIGKILL: a child may inherit an ignored SIGTERM from the test runner.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite struct RetryTests {
    func engine(_ server: ScriptedServer, retries: Int) -> OpenAIEngine {
        OpenAIEngine(configuration: OpenAIConfiguration(
            baseURL: server.url, model: "m", preset: .generic, apiKey: nil, maxRetries: retries,
            initialBackoff: .milliseconds(10)))
    }

    @Test func rateLimitsAndServerErrorsAreRetriedThenSucceed() async throws {
        let server = try ScriptedServer(script: [(503, "0"), (429, "1"), (502, nil)])
        let engine = engine(server, retries: 3)
        let r = try await Fixtures.within(60) {
            try await engine.generate(EngineRequest(parts: [.text("hi")], schema: ["type": "object"]))
        }
        #expect(r.json == ["ok": true])
        #expect(try await server.requestCount() == 4)
    }

    @Test func retriesStopAtTheLimitWithTheLastStatus() async throws {
        let server = try ScriptedServer(script: [(503, nil), (503, nil), (503, nil)])
        await #expect(throws: EngineError.self) {
            try await self.engine(server, retries: 1).generate(EngineRequest(parts: [.text("hi")]))
        }
        #expect(try await server.requestCount() == 2)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let server = try ScriptedServer(script: [(400, nil)])
        let error = await #expect(throws: EngineError.self) {
            try await self.engine(server, retries: 3).generate(EngineRequest(parts: [.text("hi")]))
        }
        guard case .httpStatus(_, let status, let body) = error else {
            Issue.record("expected httpStatus, got \(String(describing: error))")
            return
        }
        #expect(status == 400)
        #expect(body.contains("scripted 400"))
        #expect(try await server.requestCount() == 1)
    }
}
