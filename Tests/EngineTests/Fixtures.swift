import Foundation
import Models
import Testing
@testable import Engine

/// Real parts from Recap's cache (built by scripts/deps.sh and `recap models install`).
enum Fixtures {
    static func llamaServer() throws -> String { try RecapPaths.fromEnvironment().llamaServer().path }
    static func smolLM() throws -> String { try ModelCatalog.path(for: .smollm2).path }

    static func serverOptions(restarts: Int = 3) throws -> LlamaServerOptions {
        LlamaServerOptions(binary: try llamaServer(), model: try smolLM(), contextTokens: 4096, threads: 2,
                           maxRestarts: restarts)
    }

    /// The built `recap` binary: $RECAP_BIN, else beside the test bundle (`swift build --build-tests` builds both).
    static func recapBinary() throws -> String {
        if let b = ProcessInfo.processInfo.environment["RECAP_BIN"], FileManager.default.isExecutableFile(atPath: b) { return b }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("recap").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        throw EngineError.missingFile(path: "recap", hint: "build the recap product next to the tests (swift build --build-tests) or set RECAP_BIN")
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Running (a zombie waiting for a reaper counts as dead: it runs no code and holds no port).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Runs `body`, failing (not hanging) if it takes longer than `seconds`.
    static func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            guard let first = try await group.next(), let value = first else {
                group.cancelAll()
                throw HangError(seconds: seconds)
            }
            group.cancelAll()
            return value
        }
    }

    struct HangError: Error, CustomStringConvertible {
        var seconds: Double
        var description: String { "no result within \(seconds) s: it hangs" }
    }
}

/// One llama-server + SmolLM2 shared by the tests that only send requests (startups are the slow part).
actor SharedEngine {
    static let shared = SharedEngine()
    private var engine: LocalEngine?

    func local() async throws -> LocalEngine {
        if let engine { return engine }
        let e = LocalEngine(options: LocalEngine.Options(
            server: try Fixtures.serverOptions(), speech: nil, ocr: try TextRecognizer(), handleSignals: false))
        try await e.start()
        engine = e
        return e
    }

    /// The shared server's OpenAI-compatible URL.
    func baseURL() async throws -> String {
        let e = try await local()
        return try await e.supervisor.ensureRunning()
    }
}
