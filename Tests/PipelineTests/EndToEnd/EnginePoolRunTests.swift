import Foundation
import Engine
import Testing
@testable import Pipeline

/// `recap run` with several `--base-url`s against recording stand-in servers: a server that dies mid-request
/// or is not there at all costs the run nothing while another is left, and the results are filed as with one.
@Suite(.serialized) struct EnginePoolRunTests {
    func args(_ input: URL, _ out: URL, _ urls: [String]) -> [String] {
        ["run", input.path, "--out", out.path, "--json", "--engine", "openai", "--preset", "vllm", "--no-vectors"]
            + urls.flatMap { ["--base-url", $0] }
    }

    @Test func aServerKilledMidRequestHandsItToAnotherAndTheRunCompletes() async throws {
        let root = try tempDir("recap-pool-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        // The first server holds every answer (one byte a second), so the first request is in flight when it dies.
        let dying = try StandInServer(mode: "trickle", folder: root), healthy = try StandInServer(folder: root)
        defer { dying.stop(); healthy.stop() }
        let running = try BackgroundRecap(args(input, out, [dying.baseURL, healthy.baseURL]), folder: root)
        while try dying.chats().isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        dying.stop()
        let run = try await running.result()
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.summary?["succeeded"]?.doubleValue == 1)
        let servers = run.summary?["engine_servers"]?.arrayValue ?? []
        #expect(servers.count == 2)
        #expect((servers.first?["ejections"]?.doubleValue ?? 0) >= 1)
        #expect((servers.first?["failures"]?.doubleValue ?? 0) >= 1)
        // The request it dropped was answered by the other server.
        let dropped = try dying.chats()
        #expect(!dropped.isEmpty)
        let answered = try healthy.chats().map(\.body)
        #expect(dropped.allSatisfy { answered.contains($0.body) }, "a dropped request was not answered by the other server")
    }

    @Test func aServerDownFromTheStartIsSkippedAndTheIdentityIsTheSingleServers() async throws {
        let root = try tempDir("recap-pool-down")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "portrait.mp4"], into: input)
        let a = try StandInServer(folder: root), b = try StandInServer(folder: root)
        defer { a.stop(); b.stop() }
        let nobody = "http://127.0.0.1:1/v1"
        let run = try await RecapProcess.run(args(input, out, [nobody, a.baseURL, b.baseURL]))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.summary?["succeeded"]?.doubleValue == 2)
        let servers = run.summary?["engine_servers"]?.arrayValue ?? []
        // Down at start, and every later try of it (after its cool-down) failed.
        #expect(servers.first?["requests"]?.doubleValue == servers.first?["failures"]?.doubleValue)
        #expect(servers.first?["state"]?.stringValue == "cooling down")
        #expect(try a.chats().count + b.chats().count > 0)

        // Results are filed under the model, not the servers: one of them alone finds nothing to redo.
        let single = try await RecapProcess.run(args(input, out, [b.baseURL]))
        #expect(single.status == 0, "stderr: \(single.stderr)")
        #expect(single.summary?["unchanged"]?.doubleValue == 2)
        #expect(single.summary?["engine_servers"] == nil)
    }

    @Test func serverErrorsMoveTheWorkToAnotherServerAndTheKeyNeverLeaks() async throws {
        let key = "sk-recap-pool-test-5b81d0"
        let root = try tempDir("recap-pool-500")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        // The first server fails every request with HTTP 500 and echoes the request headers, key included.
        let failing = try StandInServer(mode: "fail-echo-headers", folder: root), fine = try StandInServer(folder: root)
        defer { failing.stop(); fine.stop() }
        let run = try await RecapProcess.run(args(input, out, [failing.baseURL, fine.baseURL]) + ["--retries", "0"],
                                             env: ["RECAP_API_KEY": key])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.summary?["succeeded"]?.doubleValue == 1)
        let servers = run.summary?["engine_servers"]?.arrayValue ?? []
        #expect((servers.first?["ejections"]?.doubleValue ?? 0) >= 1)
        #expect(!run.stdout.contains(key) && !run.stderr.contains(key))
        for case let u as URL in FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil) ?? .init() {
            if let d = try? Data(contentsOf: u) { #expect(d.range(of: Data(key.utf8)) == nil, "the key reached \(u.lastPathComponent)") }
        }
    }

    @Test func noServerLeftStopsTheRunAsEngineUnavailable() async throws {
        let root = try tempDir("recap-pool-none")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let run = try await RecapProcess.run(args(input, out, ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]))
        #expect(run.status == 3, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("engine unavailable"))
    }
}

/// `recap` running while the test does other things: its output goes to files, so no thread of the test's
/// cooperative pool sits blocked reading a pipe (on two cores that would stall the test until recap exits).
final class BackgroundRecap {
    let process = Process()
    let stdout: URL, stderr: URL

    init(_ args: [String], folder: URL) throws {
        stdout = folder.appendingPathComponent("recap.stdout")
        stderr = folder.appendingPathComponent("recap.stderr")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.executableURL = try RecapProcess.binary()
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["RECAP_PIPELINES"] = repoRoot.appendingPathComponent("pipelines").path
        for name in ["RECAP_STORE", "RECAP_API_KEY", "OPENAI_API_KEY"] { env.removeValue(forKey: name) }
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    func result() async throws -> RecapProcess.Result {
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        process.waitUntilExit()
        return RecapProcess.Result(status: process.terminationStatus,
                                   stdout: try String(contentsOf: stdout, encoding: .utf8),
                                   stderr: try String(contentsOf: stderr, encoding: .utf8))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }
}
