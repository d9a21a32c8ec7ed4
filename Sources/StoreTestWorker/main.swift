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
//   bench-vectors --count N [--dims D] [--queries Q]
//                 exhaustive search of N synthetic unit vectors held in memory (half floats)
//   bench-vector-store --store FILE --count N   N passages with vectors in a store; time loading them
//                 and a hybrid search (words + meaning), as `recap search` does
//   bench-queue   --store FILE|postgres://URL --workers W --count N
//                 N jobs, W concurrent worker tasks each looping claim + checkpoint + complete through the
//                 JobQueue protocol (bench/queue.sh: SQLite and PostgreSQL side by side)
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

    case "bench-vectors":
        let count = Int(require("count"))!, dims = Int(option("dims") ?? "384")!, queries = Int(option("queries") ?? "9")!
        var rng = SplitMix(seed: 42)
        let t0 = Date()
        var index = VectorIndex(dimensions: dims)
        index.reserveCapacity(count)
        for i in 0..<count { index.append(entryID: Int64(i), jobID: Int64(i / 100), vector: rng.unitVector(dims)) }
        let built = Date().timeIntervalSince(t0)
        var times: [Double] = []
        for _ in 0..<queries {
            let q = rng.unitVector(dims)
            let t = Date()
            let hits = index.nearest(to: q, limit: 20)
            times.append(Date().timeIntervalSince(t))
            precondition(hits.count == min(20, count))
        }
        emit(["op": "vectors", "count": count, "dims": dims, "buildSeconds": built,
              "medianQueryMs": times.sorted()[times.count / 2] * 1000, "bytes": count * dims * 2])

    case "bench-vector-store":
        let store = try JobStore(path: require("store"))
        let count = Int(require("count"))!, dims = 384, perJob = 100
        var rng = SplitMix(seed: 7)
        let words = ["harbour", "budget", "river", "lecture", "garden", "market", "station", "bridge", "winter", "music"]
        let t0 = Date()
        for j in 0..<(count + perJob - 1) / perJob {
            let job = try store.enqueue(EnqueueRequest(fingerprint: "v\(j)", path: "/bench/\(j).mp4", identity: identity)).jobID
            var entries: [SearchEntry] = [], vectors: [(hash: String, vector: [Float])] = []
            for k in 0..<min(perJob, count - j * perJob) {
                let text = "passage \(j)-\(k) about the \(words[(j + k) % words.count]) and the \(words[(j * 7 + k) % words.count])"
                entries.append(SearchEntry(kind: .transcript, start: Double(k * 10), end: Double(k * 10 + 9), text: text))
                vectors.append((Digest.sha256Hex(Data(text.utf8)), rng.unitVector(dims)))
            }
            try store.replaceSearchEntries(jobID: job, path: "/bench/\(j).mp4", entries: entries)
            try store.saveVectors(model: "bench", vectors)
        }
        let written = Date().timeIntervalSince(t0)
        let t1 = Date()
        let index = try store.vectorIndex(model: "bench")!
        let loaded = Date().timeIntervalSince(t1)
        var times: [Double] = []
        for _ in 0..<9 {
            let t = Date()
            _ = try store.hybridSearch("harbour budget", vector: rng.unitVector(dims), index: index, limit: 20, minSimilarity: 0)
            times.append(Date().timeIntervalSince(t))
        }
        emit(["op": "vector-store", "count": index.count, "writeSeconds": written, "loadSeconds": loaded,
              "medianSearchMs": times.sorted()[times.count / 2] * 1000])

    case "bench-queue":
        let rate = try await benchQueue(
            store: require("store"), workers: Int(option("workers") ?? "1") ?? 1, count: Int(require("count")) ?? 1000)
        emit(rate)

    default:
        FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("StoreTestWorker \(mode): \(error)\n".utf8))
    exit(1)
}

/// A small fast deterministic generator for synthetic vectors (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unitVector(_ n: Int) -> [Float] {
        var v = (0..<n).map { _ in Float(Double(next() >> 11) / Double(1 << 53)) * 2 - 1 }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for i in v.indices { v[i] /= norm }
        return v
    }
}
