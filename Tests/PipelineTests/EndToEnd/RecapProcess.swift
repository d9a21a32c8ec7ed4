import Foundation
import Engine
@testable import Pipeline

/// Runs the built `recap` binary as a subprocess: the end-to-end tests exercise the real program with the
/// real local engine, store and media libraries, never a fake.
enum RecapProcess {
    /// The binary beside the test bundle (`.build/debug/recap` under `make test`), or $RECAP_BIN.
    static func binary() throws -> URL {
        let env = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let b = env["RECAP_BIN"], !b.isEmpty { candidates.append(URL(fileURLWithPath: b)) }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("recap"))
            dir.deleteLastPathComponent()
        }
        for s in [".build/debug", ".build-pipeline/debug", ".build/release"] { candidates.append(repoRoot.appendingPathComponent(s + "/recap")) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw Missing(what: "the recap binary (build it first: `swift build`, or set RECAP_BIN); looked in \(candidates.map(\.path))")
        }
        return found
    }

    struct Missing: Error, CustomStringConvertible { var what: String; var description: String { "missing \(what)" } }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var summary: JSONValue? { try? JSONValue.parse(stdout) }
    }

    /// Starts recap; the caller waits or kills.
    static func start(_ args: [String], cwd: URL = repoRoot, env extra: [String: String] = [:]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        p.currentDirectoryURL = cwd
        var env = ProcessInfo.processInfo.environment
        env["RECAP_PIPELINES"] = repoRoot.appendingPathComponent("pipelines").path
        env.removeValue(forKey: "RECAP_STORE")
        for name in ["RECAP_API_KEY", "OPENAI_API_KEY"] { env.removeValue(forKey: name) }
        env.merge(extra) { $1 }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    static func run(_ args: [String], env: [String: String] = [:]) async throws -> Result {
        let (p, out, err) = try start(args, env: env)
        // Read both pipes while the process runs so a full pipe can never block it.
        async let o = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let e = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let (od, ed) = await (o, e)
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: od, as: UTF8.self), stderr: String(decoding: ed, as: UTF8.self))
    }

    /// Sends `sig` to a started recap and waits up to `seconds` for it to exit. A child can inherit a mask that
    /// blocks the signal from the test runner: then it is killed (SIGKILL) and `stopped` is false, so a test
    /// fails instead of hanging. Returns the exit status and what it wrote on stderr.
    static func stop(_ p: Process, stdout: Pipe, stderr: Pipe, with sig: Int32, within seconds: Double = 60) async throws
        -> (stopped: Bool, status: Int32, stderr: String)
    {
        kill(p.processIdentifier, sig)
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let stopped = !p.isRunning
        if !stopped { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = stdout.fileHandleForReading.readDataToEndOfFile()
        return (stopped, p.terminationStatus, err)
    }

    /// Every `.recap.json` under `out`, as paths relative to it, sorted.
    static func outputs(_ out: URL) -> [String] {
        (FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { $0.lastPathComponent.hasSuffix(".recap.json") }
            .map { String($0.path.dropFirst(out.path.count + 1)) }.sorted()
    }

    /// Copies named samples into a fresh input folder.
    static func inputs(_ names: [String], into dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for n in names {
            try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("samples/\(n)"), to: dir.appendingPathComponent(n))
        }
    }
}

/// Validates output files against the published schema with an independent validator (Debian's
/// python3-jsonschema, Draft 2020-12), so a bug in Recap's own validator cannot hide a bad output.
/// Returns the violations, one line each ("" when every file is valid).
func independentSchemaViolations(_ files: [URL]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    p.arguments = ["-c", """
        import json, sys
        from jsonschema import Draft202012Validator
        v = Draft202012Validator(json.load(open(sys.argv[1])))
        for f in sys.argv[2:]:
            for e in v.iter_errors(json.load(open(f))):
                print(f"{f}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
        """, repoRoot.appendingPathComponent("schemas/recap-output.v1.json").path] + files.map(\.path)
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let problems = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        return "the independent validator failed: " + String(decoding: problems, as: UTF8.self)
    }
    return String(decoding: data, as: UTF8.self)
}
