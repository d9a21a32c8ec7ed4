import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How to run llama-server.
public struct LlamaServerOptions: Sendable {
    /// Path of the `llama-server` binary (Models resolves `$RECAP_PREFIX/bin/llama-server`).
    public var binary: String
    /// The GGUF language model.
    public var model: String
    /// The model's multimodal projector GGUF: gives the model eyes (e.g. Gemma 3n's mmproj).
    public var mmproj: String?
    public var contextTokens: Int
    public var threads: Int
    /// More llama-server flags, passed as given.
    public var extraArguments: [String]
    /// Longest wait for `/health` after a start (loading a large GGUF from a cold disk is slow).
    public var startupTimeout: Duration
    /// Restarts allowed after unexpected exits, over the supervisor's life.
    public var maxRestarts: Int
    /// Folder for llama-server's log (default: the system temporary folder).
    public var logDirectory: String

    public init(binary: String, model: String, mmproj: String? = nil, contextTokens: Int = 4096, threads: Int = 2,
                extraArguments: [String] = [], startupTimeout: Duration = .seconds(120), maxRestarts: Int = 3,
                logDirectory: String = NSTemporaryDirectory()) {
        self.binary = binary
        self.model = model
        self.mmproj = mmproj
        self.contextTokens = contextTokens
        self.threads = threads
        self.extraArguments = extraArguments
        self.startupTimeout = startupTimeout
        self.maxRestarts = maxRestarts
        self.logDirectory = logDirectory
    }
}

/// Runs llama-server as a supervised child on 127.0.0.1: a free port, wait for `/health`, restart when it dies,
/// stop on `stop()`, exit or signal. Never an orphan (see `ChildProcess`).
public actor LlamaServerSupervisor {
    public let options: LlamaServerOptions
    private var child: ChildProcess?
    private var port: Int?
    private var starting: Task<Void, any Error>?
    private var stopping = false
    /// Starts after an unexpected exit.
    public private(set) var restarts = 0

    public init(options: LlamaServerOptions) {
        self.options = options
    }

    /// "http://127.0.0.1:PORT/v1" once started.
    public var baseURL: String? { port.map { "http://127.0.0.1:\($0)/v1" } }
    /// The running llama-server's pid (for tests and `recap engine check`).
    public var pid: pid_t? { child?.isRunning == true ? child?.pid : nil }
    public var logPath: String? { child?.logPath }

    /// Starts llama-server if it is not running and waits until it is healthy. Returns the base URL.
    /// Concurrent callers share one start.
    @discardableResult
    public func ensureRunning() async throws -> String {
        if stopping { throw EngineError.serverFailed(reason: "the engine was shut down", logTail: "") }
        if let c = child, c.isRunning, starting == nil, let url = baseURL { return url }
        if starting == nil {
            if let old = child, let status = old.exitStatus {
                // It died without being asked to: this start is a restart.
                if restarts >= options.maxRestarts {
                    throw EngineError.serverFailed(
                        reason: "llama-server \(ChildProcess.describe(status: status)) after \(restarts) restarts; not restarting again",
                        logTail: old.logTail())
                }
                restarts += 1
            }
            starting = Task { try await self.launch() }
        }
        let task = starting!
        do {
            try await task.value
            if starting == task { starting = nil }
        } catch {
            if starting == task { starting = nil }
            throw error
        }
        guard let url = baseURL else { throw EngineError.serverFailed(reason: "not started", logTail: "") }
        return url
    }

    /// Stops llama-server (SIGTERM, then SIGKILL) and keeps it stopped.
    public func stop() async {
        stopping = true
        starting?.cancel()
        if let c = child {
            await c.stop()
            // A clean stop leaves nothing behind; logs of failed starts are kept (their errors cite them).
            try? FileManager.default.removeItem(atPath: c.logPath)
        }
    }

    private func launch() async throws {
        for fileCheck in [(options.binary, "build it with `make deps` (scripts/deps.sh)"),
                          (options.model, "install models with `recap models install`")] {
            guard FileManager.default.fileExists(atPath: fileCheck.0) else {
                throw EngineError.missingFile(path: fileCheck.0, hint: fileCheck.1)
            }
        }
        if let mm = options.mmproj, !FileManager.default.fileExists(atPath: mm) {
            throw EngineError.missingFile(path: mm, hint: "the --mmproj file does not exist")
        }
        // A port that was ours stays ours across restarts when it can (clients keep their URL); a new one if
        // llama-server could not bind it.
        var lastError: EngineError?
        for attempt in 0..<3 {
            try Task.checkCancellation()
            let p = try (attempt == 0 ? port : nil) ?? FreePort.find()
            do {
                try await startOnce(port: p)
                return
            } catch let e as EngineError {
                lastError = e
                if case .serverFailed(_, let tail) = e, tail.contains("bind") || tail.contains("address already in use") {
                    continue
                }
                throw e
            }
        }
        throw lastError ?? EngineError.serverFailed(reason: "could not start", logTail: "")
    }

    private func startOnce(port p: Int) async throws {
        var args = ["-m", options.model, "-c", String(options.contextTokens), "-t", String(options.threads),
                    "--host", "127.0.0.1", "--port", String(p), "--no-webui",
                    // One slot: every request gets the whole context (the default splits it across 4).
                    "-np", "1"]
        if let mm = options.mmproj { args += ["--mmproj", mm] }
        args += options.extraArguments
        let log = (options.logDirectory as NSString).appendingPathComponent("recap-llama-server-\(getpid())-\(p).log")
        let c = try ChildProcess(executable: options.binary, arguments: args, logPath: log)
        child = c
        port = p
        do {
            try await waitHealthy(c, port: p)
        } catch {
            await c.stop(grace: .seconds(1))
            throw error
        }
        let watched = c
        Task { await self.watch(watched) }
    }

    private func waitHealthy(_ c: ChildProcess, port p: Int) async throws {
        let health = HTTPTransport(configuration: OpenAIConfiguration(
            baseURL: "http://127.0.0.1:\(p)", preset: .llamaServer, apiKey: nil,
            connectTimeout: .seconds(1), maxRetries: 0, serverName: "the local llama-server"))
        let deadline = ContinuousClock.now + options.startupTimeout
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            if let status = c.exitStatus {
                throw EngineError.serverFailed(reason: "llama-server \(ChildProcess.describe(status: status)) while starting (log: \(c.logPath))",
                                               logTail: c.logTail())
            }
            if (try? await health.send("/health", body: nil, root: true, retries: 0, timeout: .seconds(2))) != nil {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw EngineError.serverFailed(reason: "no healthy /health within \(Int(options.startupTimeout.seconds)) s (log: \(c.logPath))",
                                       logTail: c.logTail())
    }

    /// Restarts the server as soon as it exits without being asked to (requests would do it too, later).
    private func watch(_ c: ChildProcess) async {
        _ = await c.waitForExit()
        guard !stopping, child === c else { return }
        _ = try? await ensureRunning()
    }
}
