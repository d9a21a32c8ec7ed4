import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process Recap owns (llama-server). It can never outlive Recap:
/// - it runs in its own process group (a terminal's Ctrl-C reaches Recap, which then stops it in order);
/// - on Linux it is started through util-linux `setpriv --pdeathsig KILL`, so the kernel kills it if Recap dies
///   in any way, SIGKILL included. The "parent" the kernel watches is the spawning *thread*, so children are
///   spawned from one dedicated thread that lives as long as the process (`SpawnThread`);
/// - `ChildProcessRegistry` stops every live child on SIGINT/SIGTERM/SIGHUP (when installed) and at exit().
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let executable: String
    /// stdout and stderr of the child go here.
    public let logPath: String
    private let exitState = Mutex<ExitState>(ExitState())

    private struct ExitState {
        var status: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
    }

    /// Starts `executable` with `arguments`, output to `logPath`, in a new process group, with default signal
    /// dispositions (Recap may be ignoring SIGINT to handle it through Dispatch).
    public init(executable: String, arguments: [String], logPath: String, environment: [String: String]? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw EngineError.missingFile(path: executable, hint: "not an executable file; run `make deps` to build it")
        }
        self.executable = executable
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        var argv = [executable] + arguments
        var path = executable
        if let setpriv = Self.setprivPath {
            argv = [setpriv, "--pdeathsig", "KILL", "--"] + argv
            path = setpriv
        }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let spawned = SpawnThread.shared.run { () -> Result<pid_t, EngineError> in
            Self.spawn(path: path, argv: argv, env: env, logPath: logPath)
        }
        self.pid = try spawned.get()
        ChildProcessRegistry.shared.add(pid)
        // One blocking waitpid per child, off the cooperative pool. It keeps `self` alive until the child exits.
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            ChildProcessRegistry.shared.remove(pid)
            let waiters = exitState.withLock { s -> [CheckedContinuation<Int32, Never>] in
                s.status = status
                defer { s.waiters = [] }
                return s.waiters
            }
            for w in waiters { w.resume(returning: status) }
        }
    }

    /// The raw wait status once the child has exited, nil while it runs.
    public var exitStatus: Int32? { exitState.withLock { $0.status } }
    public var isRunning: Bool { exitStatus == nil }

    /// Waits for the child to exit; returns its raw wait status.
    public func waitForExit() async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let done: Int32? = exitState.withLock { s in
                if let st = s.status { return st }
                s.waiters.append(c)
                return nil
            }
            if let done { c.resume(returning: done) }
        }
    }

    /// SIGTERM to the child's process group, then SIGKILL after `grace`. Returns when it has exited.
    public func stop(grace: Duration = .seconds(3)) async {
        guard isRunning else { return }
        kill(-pid, SIGTERM)
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if isRunning {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        _ = await waitForExit()
    }

    /// A readable cause: "exited with status 1" / "killed by signal 9".
    public static func describe(status: Int32) -> String {
        let sig = status & 0x7f
        if sig == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "killed by signal \(sig)"
    }

    /// The last `lines` lines of the log.
    public func logTail(lines: Int = 15) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        let text = String(decoding: data.suffix(16_384), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    static let setprivPath: String? = {
        #if os(Linux)
        for p in ["/usr/bin/setpriv", "/bin/setpriv"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        #endif
        return nil
    }()

    private static func spawn(path: String, argv: [String], env: [String], logPath: String) -> Result<pid_t, EngineError> {
        var actions = posix_spawn_file_actions_t()
        var attr = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attr)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attr)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, s) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &emptyMask)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgv { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, cArgv, cEnv)
        guard rc == 0 else {
            return .failure(.serverFailed(reason: "cannot start \(argv.joined(separator: " ")): \(String(cString: strerror(rc)))", logTail: ""))
        }
        return .success(pid)
    }
}

/// The one long-lived thread that spawns children (see `ChildProcess`: PR_SET_PDEATHSIG fires when the spawning
/// thread exits, so it must be a thread that never does).
final class SpawnThread: @unchecked Sendable {
    static let shared = SpawnThread()
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "recap.spawn"
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the spawn thread and waits for its result.
    func run<T>(_ body: @escaping () -> T) -> T {
        var result: T?
        let done = DispatchSemaphore(value: 0)
        condition.lock()
        jobs.append {
            result = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return result!
    }
}

/// Every live child, so a signal or exit() can stop them all.
public final class ChildProcessRegistry: Sendable {
    public static let shared = ChildProcessRegistry()
    private let pids = Mutex<Set<pid_t>>([])
    private let installed = Mutex<Bool>(false)
    private let atExitInstalled = Mutex<Bool>(false)
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    func add(_ pid: pid_t) {
        pids.withLock { _ = $0.insert(pid) }
        installAtExit()
    }

    func remove(_ pid: pid_t) { pids.withLock { _ = $0.remove(pid) } }

    public var livePIDs: Set<pid_t> { pids.withLock { $0 } }

    /// SIGTERM to every child's group, up to `grace` for them to go, then SIGKILL. Synchronous: safe in a signal
    /// path or at exit.
    public func stopAll(grace: Double = 3) {
        let live = livePIDs
        guard !live.isEmpty else { return }
        for pid in live { kill(-pid, SIGTERM); kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while !livePIDs.isEmpty, Date() < deadline { usleep(20_000) }
        for pid in livePIDs { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
        let hard = Date().addingTimeInterval(1)
        while !livePIDs.isEmpty, Date() < hard { usleep(10_000) }
    }

    /// On SIGINT, SIGTERM or SIGHUP: stop every child, then exit with 128+signal (130 for Ctrl-C).
    /// Commands that do their own graceful shutdown should not call this; `ChildProcess`'s parent-death signal
    /// still guarantees no child outlives Recap.
    public func installSignalHandlers() {
        let first = installed.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        let queue = DispatchQueue(label: "recap.signals")
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                ChildProcessRegistry.shared.stopAll()
                exit(128 + sig)
            }
            source.resume()
            Self.sources.append(source)
        }
    }

    private func installAtExit() {
        let first = atExitInstalled.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { atexit { ChildProcessRegistry.shared.stopAll(grace: 1) } }
    }
}
