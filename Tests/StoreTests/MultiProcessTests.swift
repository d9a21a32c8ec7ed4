import Foundation
import Testing
@testable import Store
#if canImport(Glibc)
import Glibc
#endif

/// Real processes (StoreTestWorker) sharing one store file.
@Suite(.serialized) struct MultiProcessTests {
    @Test func fourProcessesCompleteFiveHundredJobsExactlyOnce() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let path = dir.file("store.sqlite")
        let log = dir.file("side-effects.log")
        do {
            let store = try JobStore(path: path)
            try store.enqueue((0..<500).map { request($0) })
            try store.close()
        }
        let workers = try (0..<4).map {
            try startWorker(["work", "--store", path, "--lease", "5", "--log", log], in: dir, name: "worker\($0)")
        }
        workers.forEach { wait($0) }
        for (i, w) in workers.enumerated() {
            #expect(w.terminationStatus == 0, "worker \(i): \(String(decoding: contents(dir.file("worker\(i).out")) ?? Data(), as: UTF8.self))")
        }

        let lines = logLines(log)
        let done = lines.filter { $0.first == "DONE" }.map { $0[1] }
        var perJob: [String: Int] = [:]
        for id in done { perJob[id, default: 0] += 1 }
        #expect(perJob.count == 500)
        #expect(perJob.values.allSatisfy { $0 == 1 }, "jobs done more than once: \(perJob.filter { $0.value > 1 })")
        let stages = lines.filter { $0.first == "STAGE" }.map { "\($0[1])/\($0[2])" }
        #expect(stages.count == 3500)
        #expect(Set(stages).count == 3500)
        #expect(!lines.contains { $0.first == "LOST" })

        let store = try JobStore(path: path)
        #expect(try store.counts() == [.succeeded: 500])
        #expect(try store.totalEngineCalls() == 3500)
    }

    @Test func aKilledWorkersJobIsFinishedByAnotherWithoutRedoingCheckpointedStages() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let path = dir.file("store.sqlite")
        let log = dir.file("side-effects.log")
        let ids = try JobStore(path: path).enqueue((0..<3).map { request($0) }).map(\.jobID)

        let victim = try startWorker(
            ["work", "--store", path, "--lease", "0.5", "--log", log, "--hang-at", "transcribe"], in: dir, name: "victim")
        let deadline = Date().addingTimeInterval(60)
        while !logLines(log).contains(where: { $0.first == "HANG" }) && Date() < deadline && victim.isRunning { usleep(10_000) }
        let hang = try #require(logLines(log).first { $0.first == "HANG" }, "the victim never reached transcribe")
        let hungJob = try #require(Int64(hang[1]))
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal)

        let store = try JobStore(path: path)
        #expect(try store.job(hungJob)?.state == .running)  // still leased by the dead process
        #expect(Set(try store.checkpoints(jobID: hungJob).keys) == [.probe, .frames, .audio])

        let rescuer = try startWorker(["work", "--store", path, "--lease", "0.5", "--log", log], in: dir, name: "rescuer")
        wait(rescuer)
        #expect(rescuer.terminationStatus == 0)

        let lines = logLines(log)
        let victimPid = "\(victim.processIdentifier)", rescuerPid = "\(rescuer.processIdentifier)"
        let hungStages = lines.filter { $0.first == "STAGE" && $0[1] == "\(hungJob)" }
        #expect(hungStages.map { $0[2] } == Stage.standard.map(\.rawValue))  // each stage exactly once, in order
        #expect(hungStages.prefix(3).allSatisfy { $0[3] == victimPid })
        #expect(hungStages.dropFirst(3).allSatisfy { $0[3] == rescuerPid })
        #expect(try store.engineCalls(jobID: hungJob) == Dictionary(uniqueKeysWithValues: Stage.standard.map { ($0, 1) }))

        let done = lines.filter { $0.first == "DONE" }
        #expect(done.compactMap { Int64($0[1]) }.sorted() == ids.sorted())
        #expect(try store.counts() == [.succeeded: 3])
        let attempts = try store.attempts(jobID: hungJob)
        #expect(attempts.map(\.outcome) == [.expired, .succeeded])
        #expect(attempts.first?.stage == .transcribe)
        #expect(attempts.first?.owner.contains(":\(victimPid):") == true)
    }
}
