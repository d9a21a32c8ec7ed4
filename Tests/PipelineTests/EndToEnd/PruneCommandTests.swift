import Foundation
import Store
import Testing

/// `recap jobs prune`: the command an operator runs from cron to keep a store small.
@Suite struct PruneCommandTests {
    @Test func pruningCompactsSucceededJobsAndForgetsDeadOnes() async throws {
        let dir = try tempDir()
        let path = dir.appendingPathComponent("store.sqlite")
        let identity = JobIdentity(pipeline: "summarize", pipelineVersion: "1", engine: "test")
        let ids: [Int64]
        do {
            let store = try JobStore(url: path)
            ids = try store.enqueue((0..<3).map { EnqueueRequest(fingerprint: "f\($0)", path: "/m/\($0).mp4", identity: identity) }).map(\.jobID)
            let done = try #require(try store.claim(jobID: ids[0], owner: "w"))
            try store.checkpoint(done.lease, stage: .transcribe, result: Data(#"{"text":"words"}"#.utf8), fileRef: nil, startedAt: nil)
            try store.complete(done.lease, result: nil)
            let doomed = try #require(try store.claim(jobID: ids[1], owner: "w"))
            _ = try store.fail(doomed.lease, stage: nil, message: "corrupt", retryable: false)
        }
        try await Task.sleep(for: .milliseconds(50))

        let kept = try await RecapProcess.run(["jobs", "prune", "--older-than", "1", "--store", path.path, "--json"])
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(kept.summary?["compacted"]?.doubleValue == 0 && kept.summary?["deleted"]?.doubleValue == 0, "\(kept.stdout)")

        let pruned = try await RecapProcess.run(["jobs", "prune", "--older-than", "0", "--store", path.path, "--json"])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.summary?["compacted"]?.doubleValue == 1 && pruned.summary?["deleted"]?.doubleValue == 1, "\(pruned.stdout)")
        let store = try JobStore(url: path)
        #expect(try store.job(ids[0])?.state == .succeeded)
        #expect(try store.checkpoints(jobID: ids[0])[.transcribe].map { $0.result == nil } == true)
        #expect(try store.job(ids[1]) == nil)
        #expect(try store.job(ids[2])?.state == .queued)

        let bad = try await RecapProcess.run(["jobs", "prune", "--older-than", "-3", "--store", path.path])
        #expect(bad.status != 0 && bad.stderr.contains("--older-than"), "\(bad.stderr)")
    }
}
