import Foundation
import Engine
import PostgresStore
import Store
import Testing
import ThrowawayPostgres
@testable import Pipeline

/// Three workers on three simulated hosts (network namespaces) share one PostgreSQL store. One is killed with
/// SIGKILL in the middle of a job, one is frozen with SIGSTOP past its lease and then resumed, one is cut off
/// from the database and healed; then the database itself restarts. Every file must end with exactly one
/// output, and no stage's engine call may be made twice except for the jobs those workers held at the time.
@Suite(.serialized) struct ManyHostsTests {
    static let files = ["narrated.mp4", "music.mp4", "audio-only.m4a", "portrait.mp4", "silent-video.mp4", "vfr.mp4"]
    static let lease = 6.0

    @Test(.enabled(if: SimulatedHost.availability == nil, "skipped: \(SimulatedHost.availability ?? "")"))
    func killedFrozenAndCutOffWorkersLeaveEveryFileDoneOnce() async throws {
        let root = try tempDir("recap-many-hosts")
        defer { try? FileManager.default.removeItem(at: root) }
        let hosts = try (1...3).map { try SimulatedHost(index: $0) }
        defer { hosts.forEach { $0.remove() } }
        let cluster = try TestCluster(addresses: hosts.map(\.hostAddress), networks: ["10.231.0.0/16"])
        defer { cluster.remove() }
        let database = try cluster.makeDatabase()
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(Self.files, into: input)
        let recap = try RecapProcess.binary().path

        // Enqueue from "here" (loopback). The engine's identity must match the workers': the same preset.
        let engineArgs = { (port: Int) in ["--engine", "openai", "--preset", "vllm", "--base-url", "http://127.0.0.1:\(port)/v1", "--retries", "0"] }
        let enqueueEngine = try StandInServer(folder: root)
        defer { enqueueEngine.stop() }
        let enq = try await RecapProcess.run(["run", input.path, "--enqueue-only", "--root", "media=\(input.path)", "--out", out.path,
                                              "--store", database, "--json", "--engine", "openai", "--preset", "vllm",
                                              "--base-url", enqueueEngine.baseURL, "--retries", "0"],
                                             env: ["RECAP_CACHE": root.appendingPathComponent("cache-here").path])
        #expect(enq.status == 0 && enq.summary?["pending"]?.doubleValue == Double(Self.files.count), "\(enq.stdout) \(enq.stderr)")

        // On each host: its own engine (every chat completion takes 0.7 s, so a job is caught mid-stage) and a worker.
        var engines: [Process] = [], workers: [Process] = [], logs: [URL] = []
        defer {
            for p in workers + engines where p.isRunning { kill(p.processIdentifier, SIGCONT); kill(p.processIdentifier, SIGKILL) }
        }
        for host in hosts {
            let (engine, port) = try host.startEngine(log: root.appendingPathComponent("engine-\(host.index).jsonl"), delay: 0.7)
            engines.append(engine)
            let url = database.replacingOccurrences(of: "127.0.0.1", with: host.hostAddress)
            let log = root.appendingPathComponent("worker-\(host.index).log")
            logs.append(log)
            workers.append(try host.start([recap, "worker", "--store", url, "--root", "media=\(input.path)", "--out", out.path,
                                           "--lease-seconds", "\(Self.lease)", "--poll-seconds", "0.3", "--verbose", "--json"] + engineArgs(port),
                                          env: ["RECAP_CACHE": root.appendingPathComponent("cache-\(host.index)").path], log: log))
        }
        let store = try await PostgresJobStore.open(url: database)
        defer { Task { await store.close() } }
        let (a, b, c) = (workers[0], workers[1], workers[2])
        // Jobs held by a worker when something happened to it, once per event: a job hit twice may be asked twice more.
        var heldAtTrouble: [Int64] = []

        // 1. SIGKILL worker A once it holds a job with a finished stage.
        let killed = try await waitForJob(held: a, in: store, withCheckpoint: true)
        kill(a.processIdentifier, SIGKILL)
        heldAtTrouble += try await jobs(heldBy: a, in: store)

        // 2. SIGSTOP worker B while it holds a job, past its lease; another worker takes the job; then SIGCONT.
        let frozen = try await waitForJob(held: b, in: store, withCheckpoint: false)
        kill(b.processIdentifier, SIGSTOP)
        heldAtTrouble += try await jobs(heldBy: b, in: store)
        try await until("the frozen worker's job is taken over", timeout: 120) {
            let job = try await store.job(frozen)
            return job?.state == .succeeded || (job?.leaseOwner.map { !$0.contains(":\(b.processIdentifier):") } ?? false)
        }
        kill(b.processIdentifier, SIGCONT)

        // 3. Cut worker C off from the database while it holds a job, for longer than its lease; then heal.
        _ = try? await waitForJob(held: c, in: store, withCheckpoint: false, timeout: 60)
        try hosts[2].cut(true)
        heldAtTrouble += try await jobs(heldBy: c, in: store)
        let cutAt = Date()
        // 4. Meanwhile, once B works on a job (C's, taken over), the database restarts, ending every session in
        //    the middle of B's stage.
        _ = try? await waitForJob(held: b, in: store, withCheckpoint: false, timeout: 60)
        heldAtTrouble += try await jobs(heldBy: b, in: store)
        try cluster.stop()
        try await Task.sleep(for: .seconds(3))
        try cluster.start()
        let restarted = Date()
        try await Task.sleep(for: .seconds(max(0, Self.lease * 2.5 - Date().timeIntervalSince(cutAt))))
        try hosts[2].cut(false)
        let healed = Date()

        // Everything ends done, by the two workers left.
        let fresh = try await PostgresJobStore.open(url: database)
        defer { Task { await fresh.close() } }
        try await until("every job succeeded", timeout: 300) {
            try await fresh.counts(identity: nil)[.succeeded] == Self.files.count
        }
        // Both survivors are alive after the cut and the restart: their heartbeats are newer than both.
        try await until("both survivors heartbeat after the restart", timeout: 60) {
            let live = try await fresh.workers().filter { [b.processIdentifier, c.processIdentifier].contains(Int32($0.pid)) }
            return live.count == 2 && live.allSatisfy { $0.lastHeartbeat > restarted && $0.lastHeartbeat > healed }
        }
        #expect(b.isRunning && c.isRunning, "the frozen and the cut-off workers are still running")
        for w in [b, c] { kill(w.processIdentifier, SIGTERM) }
        for w in [b, c] {
            let deadline = Date().addingTimeInterval(60)
            while w.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!w.isRunning, "worker \(w.processIdentifier) ignored SIGTERM for 60 s")
        }

        // Exactly one output per file, no temp files left.
        let written = (FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .map(\.lastPathComponent)
        for f in Self.files {
            let stem = (f as NSString).deletingPathExtension
            #expect(written.filter { $0 == "\(stem).recap.json" }.count == 1, "\(f): \(written)")
        }
        #expect(!written.contains { $0.hasPrefix(".") && $0.contains("tmp") }, "temp files left: \(written)")

        // The frozen worker's late write was refused (fencing), and it said so.
        let bLog = (try? String(contentsOf: logs[1], encoding: .utf8)) ?? ""
        #expect(bLog.contains("lease lost"), "the frozen worker's late write was not refused: \(bLog.suffix(2000))")
        // The killed and the frozen workers' attempts ended as expired leases, each then done by someone else.
        for id in [killed, frozen] {
            let attempts = try await fresh.attempts(jobID: id)
            #expect(attempts.contains { $0.outcome == .expired } && attempts.last?.outcome == .succeeded, "job \(id): \(attempts.map(\.outcome))")
        }

        // Per file, as many summary requests as one plain run makes, except for the jobs a worker held when it
        // was killed, frozen or cut off (their stage in flight is asked again by whoever takes the job over).
        let reference = try StandInServer(folder: root)
        defer { reference.stop() }
        let ref = try await RecapProcess.run(["run", input.path, "--out", root.appendingPathComponent("ref").path, "--engine", "openai",
                                              "--preset", "vllm", "--base-url", reference.baseURL, "--retries", "0"])
        #expect(ref.status == 0, "\(ref.stderr)")
        let expected = Self.summaries(in: [reference.log])
        let asked = Self.summaries(in: hosts.map { root.appendingPathComponent("engine-\($0.index).jsonl") })
        var hits: [String: Int] = [:]
        for id in heldAtTrouble { if let p = try await fresh.job(id)?.path { hits[(p as NSString).lastPathComponent, default: 0] += 1 } }
        for f in Self.files {
            let n = asked[f, default: 0], once = expected[f, default: 0]
            #expect(n >= once && n <= once * (1 + hits[f, default: 0]),
                    "\(f): \(n) summary requests; one run makes \(once), and it was held by a worker in trouble \(hits[f, default: 0]) times")
        }
    }

    /// Summary requests per file name, from stand-in logs.
    static func summaries(in logs: [URL]) -> [String: Int] {
        var byFile: [String: Int] = [:]
        for log in logs {
            for line in ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n") {
                guard let request = try? JSONValue.parse(String(line)),
                      request["body"]?["response_format"]?["json_schema"]?["name"]?.stringValue == "recap_summarize",
                      let f = files.first(where: { line.contains("file \($0)") }) else { continue }
                byFile[f, default: 0] += 1
            }
        }
        return byFile
    }

    /// Every running job whose lease `worker` holds now (one being decoded, one at the engine).
    func jobs(heldBy worker: Process, in store: PostgresJobStore) async throws -> [Int64] {
        try await store.jobs(state: .running, limit: 50).filter { $0.leaseOwner?.contains(":\(worker.processIdentifier):") == true }.map(\.id)
    }

    /// The id of a running job whose lease `worker` holds (its pid is in the owner), once there is one.
    func waitForJob(held worker: Process, in store: PostgresJobStore, withCheckpoint: Bool, timeout: Double = 120) async throws -> Int64 {
        var found: Int64?
        try await until("worker \(worker.processIdentifier) holds a job", timeout: timeout) {
            for job in try await store.jobs(state: .running, limit: 50) where job.leaseOwner?.contains(":\(worker.processIdentifier):") == true {
                let stages = withCheckpoint ? try await store.checkpoints(jobID: job.id).count : 1
                if stages > 0 { found = job.id; return true }
            }
            return false
        }
        return found!
    }

    func until(_ what: String, timeout: Double, _ check: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? await check()) == true { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("timed out after \(Int(timeout)) s waiting until \(what)")
        throw HostError("timed out: \(what)")
    }
}
