// StoreTestWorker: a small real process that drives the job store, for the store's multi-process
// and kill tests, and for bench/store.sh. Not shipped to users.
//
//   work          --store FILE [--lease S] [--log FILE] [--stage-delay S] [--hang-at STAGE]
//                 Claim and run jobs until none is left: each stage sleeps, counts one engine call,
//                 appends "STAGE <job> <stage> <pid>" to the log and checkpoints; then the job appends
//                 "DONE <job> <pid>" (its side effect) and completes. --hang-at stops forever at a stage.
//   enqueue       --store FILE --count N
//   bench-enqueue --store FILE --count N        time one enqueue of N new jobs
//   bench-drain   --store FILE                   claim + 7 checkpoints + complete until empty
//   bench-tree    --dir DIR --count N            make N small files (once)
//   bench-rescan  --store FILE --dir DIR         time one rescan of DIR's files
// Bench modes print one JSON object per line.
import Foundation
import Store
#if canImport(Glibc)
import Glibc
#endif

let args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else {
    FileHandle.standardError.write(Data("usage: StoreTestWorker work|enqueue|bench-enqueue|bench-drain|bench-tree|bench-rescan [options]\n".utf8))
    exit(64)
}
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: "--\(name)"), i + 1 < args.count else { return nil }
    return args[i + 1]
}
func require(_ name: String) -> String {
    guard let v = option(name) else {
        FileHandle.standardError.write(Data("missing --\(name)\n".utf8))
        exit(64)
    }
    return v
}

/// Appends one line with a single write(2) on an O_APPEND descriptor: atomic between processes.
@Sendable func appendLine(_ path: String?, _ line: String) {
    guard let path else { return }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func emit(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}

let identity = JobIdentity(pipeline: "test", pipelineVersion: "1", engine: "fake")
let pid = getpid()

do {
    switch mode {
    case "work":
        let store = try JobStore(path: require("store"), options: .init(leaseDuration: Double(option("lease") ?? "5") ?? 5))
        let log = option("log")
        let delay = Double(option("stage-delay") ?? "0") ?? 0
        let hangAt = option("hang-at").map(Stage.init(rawValue:))
        let owner = JobStore.makeOwner("worker")
        while true {
            guard let claimed = try store.claim(owner: owner) else {
                let counts = try store.counts()
                if (counts[.queued] ?? 0) + (counts[.running] ?? 0) + (counts[.failed] ?? 0) == 0 { break }
                try await Task.sleep(nanoseconds: 20_000_000)
                continue
            }
            let lease = claimed.lease
            do {
                try await store.withHeartbeat(lease) {
                    for stage in Stage.standard where claimed.checkpoints[stage] == nil {
                        if stage == hangAt {
                            appendLine(log, "HANG \(lease.jobID) \(stage) \(pid)")
                            while true { try await Task.sleep(nanoseconds: 1_000_000_000) }
                        }
                        let started = Date()
                        if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
                        try store.recordEngineCalls(jobID: lease.jobID, stage: stage)
                        appendLine(log, "STAGE \(lease.jobID) \(stage) \(pid)")
                        try store.checkpoint(lease, stage: stage, value: ["stage": stage.rawValue, "pid": "\(pid)"], startedAt: started)
                    }
                    appendLine(log, "DONE \(lease.jobID) \(pid)")
                    try store.complete(lease)
                }
            } catch let error as StoreError {
                if case .leaseLost = error { appendLine(log, "LOST \(lease.jobID) \(pid)") } else { throw error }
            }
        }

    case "enqueue":
        let store = try JobStore(path: require("store"))
        let n = Int(require("count"))!
        try store.enqueue((0..<n).map {
            EnqueueRequest(fingerprint: "fp-\($0)", path: "/media/file-\($0).mp4", identity: identity)
        })

    case "bench-enqueue":
        let store = try JobStore(path: require("store"))
        let n = Int(require("count"))!
        let salt = UUID().uuidString
        let requests = (0..<n).map {
            EnqueueRequest(fingerprint: "\(salt)-\($0)", path: "/media/\(salt)/file-\($0).mp4", identity: identity)
        }
        let t0 = Date()
        let results = try store.enqueue(requests)
        let seconds = Date().timeIntervalSince(t0)
        emit(["op": "enqueue", "jobs": results.filter(\.created).count, "seconds": seconds])

    case "bench-drain":
        let store = try JobStore(path: require("store"))
        let owner = JobStore.makeOwner("bench")
        let payload = Data(#"{"ok":true,"items":[1,2,3],"note":"a small stage result"}"#.utf8)
        let start = Date().timeIntervalSince1970
        var done = 0
        var errors = 0
        while let claimed = try store.claim(owner: owner) {
            do {
                for stage in Stage.standard { try store.checkpoint(claimed.lease, stage: stage, result: payload) }
                try store.complete(claimed.lease, result: payload)
                done += 1
            } catch {
                errors += 1
            }
        }
        let end = Date().timeIntervalSince1970
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        emit(["op": "drain", "jobs": done, "errors": errors, "start": start, "end": end, "cpuSeconds": cpu])

    case "bench-tree":
        let dir = require("dir")
        let n = Int(require("count"))!
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for i in 0..<n {
            let sub = "\(dir)/d\(i / 500)"
            if i % 500 == 0 { try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true) }
            let path = "\(sub)/clip-\(i).mp4"
            if FileManager.default.fileExists(atPath: path) { continue }
            var bytes = [UInt8](repeating: 0, count: 4096)
            for j in stride(from: 0, to: bytes.count, by: 8) {
                withUnsafeBytes(of: UInt64.random(in: 0...UInt64.max)) { bytes.replaceSubrange(j..<j + 8, with: $0) }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        emit(["op": "tree", "files": n])

    case "bench-rescan":
        let store = try JobStore(path: require("store"))
        let dir = require("dir")
        let t0 = Date()
        var paths: [String] = []
        let e = FileManager.default.enumerator(atPath: dir)
        while let rel = e?.nextObject() as? String {
            if rel.hasSuffix(".mp4") { paths.append("\(dir)/\(rel)") }
        }
        let t1 = Date()
        let report = try store.rescan(paths: paths, identity: identity)
        let t2 = Date()
        emit([
            "op": "rescan", "files": paths.count, "enqueued": report.enqueued, "fingerprinted": report.fingerprinted,
            "unchanged": report.count(.unchanged), "listSeconds": t1.timeIntervalSince(t0), "seconds": t2.timeIntervalSince(t1),
        ])

    default:
        FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("StoreTestWorker \(mode): \(error)\n".utf8))
    exit(1)
}
