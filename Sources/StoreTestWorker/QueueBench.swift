import Foundation
import PostgresStore
import Store

/// Queue throughput through the ``JobQueue`` protocol, so both stores run the same loop: enqueue `count` jobs,
/// then `workers` concurrent tasks claim, checkpoint one stage and complete until none is left. Returns the
/// JSON line bench/queue.sh reads. A PostgreSQL `store` is a `postgres://` URL (one connection per worker);
/// anything else is an SQLite file.
func benchQueue(store location: String, workers: Int, count: Int) async throws -> [String: Any] {
    let queue: any JobQueue
    var closePostgres: PostgresJobStore?
    if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
        // QUEUE_BENCH_DEADLINE=0 measures without the per-call deadline, to show what it costs.
        let deadline = ProcessInfo.processInfo.environment["QUEUE_BENCH_DEADLINE"].flatMap(Double.init) ?? 30
        let pg = try await PostgresJobStore.open(url: location, options: .init(maxConnections: workers, answerSeconds: deadline))
        queue = pg
        closePostgres = pg
    } else {
        queue = try JobStore(path: location)
    }
    let batch = "\(UUID().uuidString.prefix(8))"  // fresh fingerprints: every run enqueues new jobs
    let identity = JobIdentity(pipeline: "bench", pipelineVersion: batch, engine: "fake")
    var requests: [EnqueueRequest] = []
    for n in 0..<count { requests.append(EnqueueRequest(fingerprint: "\(batch)-\(n)", path: "/bench/\(n)", identity: identity)) }
    let enqueueStarted = Date()
    for start in stride(from: 0, to: count, by: 1000) {
        try await queue.enqueue(Array(requests[start..<min(count, start + 1000)]))
    }
    let enqueueSeconds = Date().timeIntervalSince(enqueueStarted)

    let started = Date()
    let done = try await withThrowingTaskGroup(of: Int.self) { group in
        for w in 0..<workers {
            group.addTask {
                var finished = 0
                let owner = "bench-\(w)"
                while let job = try await queue.claim(owner: owner, identity: identity, leaseDuration: 60) {
                    try await queue.checkpoint(job.lease, stage: .probe, result: Data(#"{"ok":true}"#.utf8), fileRef: nil, startedAt: nil)
                    try await queue.complete(job.lease, result: nil)
                    finished += 1
                }
                return finished
            }
        }
        return try await group.reduce(0, +)
    }
    let seconds = Date().timeIntervalSince(started)
    await closePostgres?.close()
    return ["op": "queue", "workers": workers, "jobs": done, "seconds": seconds, "jobsPerSecond": Double(done) / seconds,
            "enqueuedPerSecond": Double(count) / enqueueSeconds]
}
