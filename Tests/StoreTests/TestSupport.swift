import Foundation
import Testing
@testable import Store
#if canImport(Glibc)
import Glibc
#endif

/// A fresh folder under the system temp dir, removed when the value is released... by the test.
struct TempDir {
    let url: URL
    init(_ label: String = #function) throws {
        let name = "recap-store-\(label.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString.prefix(8))"
        url = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() {
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        try? FileManager.default.removeItem(at: url)
    }
}

let testIdentity = JobIdentity(pipeline: "summarize", pipelineVersion: "1", engine: "local:test-model@1")

func request(_ n: Int, identity: JobIdentity = testIdentity) -> EnqueueRequest {
    EnqueueRequest(fingerprint: "fp-\(n)", path: "/media/clip-\(n).mp4", identity: identity)
}

/// A store on disk with a manual clock, short leases and a deterministic (jitter-free) backoff.
func makeStore(
    _ dir: TempDir, clock: ManualClock = ManualClock(), lease: TimeInterval = 10,
    retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 1000, jitter: 0)
) throws -> JobStore {
    try JobStore(path: dir.file("store.sqlite"), options: .init(clock: clock, retryPolicy: retry, leaseDuration: lease))
}

func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// The StoreTestWorker executable built beside the test bundle (`swift test`, `make test`), or
/// named by STORE_TEST_WORKER.
func workerURL() throws -> URL {
    var candidates: [URL] = []
    if let env = ProcessInfo.processInfo.environment["STORE_TEST_WORKER"] { candidates.append(URL(fileURLWithPath: env)) }
    let arg0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    for dir in [arg0.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
        candidates.append(dir.appendingPathComponent("StoreTestWorker"))
        // On Darwin the runner sits inside the .xctest bundle: climb out of it.
        candidates.append(dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("StoreTestWorker"))
    }
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return found }
    throw WorkerMissing(searched: candidates.map(\.path))
}

struct WorkerMissing: Error, CustomStringConvertible {
    let searched: [String]
    var description: String {
        "StoreTestWorker not found (build it: swift build --build-tests); looked in \(searched.joined(separator: ", "))"
    }
}

/// Starts the worker with `arguments`; stdout/stderr go to files in `dir` for post-mortems.
func startWorker(_ arguments: [String], in dir: TempDir, name: String) throws -> Process {
    let p = Process()
    p.executableURL = try workerURL()
    p.arguments = arguments
    _ = FileManager.default.createFile(atPath: dir.file("\(name).out"), contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: dir.url.appendingPathComponent("\(name).out"))
    p.standardError = try FileHandle(forWritingTo: dir.url.appendingPathComponent("\(name).out"))
    try p.run()
    return p
}

/// Waits for the process to exit, killing it after `timeout` seconds (then the test fails on its status).
func wait(_ p: Process, timeout: TimeInterval = 120) {
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
}

/// Lines of a worker log, split into fields.
func logLines(_ path: String) -> [[String]] {
    guard let data = contents(path) else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
}
