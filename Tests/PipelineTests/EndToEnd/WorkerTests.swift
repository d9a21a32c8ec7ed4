import Foundation
import Engine
import Store
import Testing
@testable import Pipeline

/// `recap run --enqueue-only` fills a store; `recap worker` processes from it, finding files through its own
/// `--root NAME=PATH` (shared storage mounted elsewhere), against a stand-in engine.
@Suite(.serialized) struct WorkerTests {
    func engine(_ server: StandInServer) -> [String] { server.engineArguments }
    func outputs(_ out: URL) -> [String] { RecapProcess.outputs(out) }

    @Test func enqueuedFilesAreDoneOnceByTwoWorkersThatSeeThemUnderAnotherMount() async throws {
        let root = try tempDir("recap-workers")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "music.mp4"], into: input.appendingPathComponent("talks"))
        try RecapProcess.inputs(["audio-only.m4a", "silent-video.mp4"], into: input)
        // What one `recap run` asks the engine for these files, to compare the workers with.
        try FileManager.default.createDirectory(at: root.appendingPathComponent("ref-log"), withIntermediateDirectories: true)
        let reference = try StandInServer(folder: root.appendingPathComponent("ref-log"))
        let ref = try await RecapProcess.run(["run", input.path, "--out", root.appendingPathComponent("ref").path] + engine(reference))
        reference.stop()
        #expect(ref.status == 0, "stderr: \(ref.stderr)")
        let summaries = try reference.chats("recap_summarize").count

        // Enqueue only: jobs, no work, no engine call.
        let enq = try await RecapProcess.run(["run", input.path, "--enqueue-only", "--root", "media=\(input.path)", "--out", out.path, "--json"] + engine(server))
        #expect(enq.status == 0, "stderr: \(enq.stderr)")
        #expect(enq.summary?["pending"]?.doubleValue == 4 && enq.summary?["enqueued"]?.doubleValue == 4, "\(enq.stdout)")
        #expect(outputs(out).isEmpty)
        #expect(try server.chats().isEmpty)

        // The same files, mounted elsewhere on the workers' host.
        let mount = root.appendingPathComponent("mnt")
        try FileManager.default.copyItem(at: input, to: mount)
        let worker = ["worker", "--root", "media=\(mount.path)", "--out", out.path, "--until-idle", "--json", "--poll-seconds", "0.2"] + engine(server)
        async let first = RecapProcess.run(worker)
        async let second = RecapProcess.run(worker)
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "stderr: \(a.stderr) \(b.stderr)")
        let done = (a.summary?["succeeded"]?.doubleValue ?? 0) + (b.summary?["succeeded"]?.doubleValue ?? 0)
        #expect(done == 4, "each file is done by exactly one worker: \(a.stdout) \(b.stdout)")
        #expect(try server.chats("recap_summarize").count == summaries, "one summary per file, as one run asks, never two")
        // Outputs mirror the tree under the root, as `recap run` would write them.
        #expect(outputs(out) == ["audio-only.recap.json", "silent-video.recap.json", "talks/music.recap.json", "talks/narrated.recap.json"])

        // Liveness: both workers are listed with what they did.
        let status = try await RecapProcess.run(["status", "--out", out.path, "--json"])
        let workers = try #require(status.summary?["workers"]?.arrayValue)
        #expect(workers.count == 2)
        #expect(workers.compactMap { $0["jobsDone"]?.doubleValue }.reduce(0, +) == 4)
        let text = try await RecapProcess.run(["status", "--out", out.path])
        #expect(text.stdout.contains("Workers") && text.stdout.contains("last heartbeat"), "\(text.stdout)")

        // A run over the same files now has nothing to do.
        let again = try await RecapProcess.run(["run", input.path, "--root", "media=\(input.path)", "--out", out.path, "--json"] + engine(server))
        #expect(again.status == 0 && again.summary?["unchanged"]?.doubleValue == 4, "\(again.stdout)")
    }

    @Test func aWorkerRefusesAFileThatIsNotTheOneEnqueuedOrARootItCannotFind() async throws {
        let root = try tempDir("recap-worker-guard")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let enq = try await RecapProcess.run(["run", input.path, "--enqueue-only", "--root", "media=\(input.path)", "--out", out.path] + engine(server))
        #expect(enq.status == 0, "stderr: \(enq.stderr)")

        // No mapping for "media" on this worker: it says which --root to give.
        let unmapped = try await RecapProcess.run(["worker", "--out", out.path, "--until-idle"] + engine(server))
        #expect(unmapped.status == 2 && unmapped.stderr.contains("--root media=PATH"), "stderr: \(unmapped.stderr)")

        // Mapped, but to a folder where another file has the name: its bytes are not the job's.
        let mount = root.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("samples/music.mp4"), to: mount.appendingPathComponent("narrated.mp4"))
        _ = try await RecapProcess.run(["jobs", "retry", "--failed", "--out", out.path])
        let wrong = try await RecapProcess.run(["worker", "--root", "media=\(mount.path)", "--out", out.path, "--until-idle"] + engine(server))
        #expect(wrong.status == 2 && wrong.stderr.contains("not the file that was enqueued"), "stderr: \(wrong.stderr)")
        #expect(outputs(out).isEmpty)
        #expect(try server.chats().isEmpty, "nothing was sent to the engine for the wrong file")
    }

    @Test func sigtermStopsAWorkerCleanlyAndGivesItsFileBack() async throws {
        let root = try tempDir("recap-worker-term")
        defer { try? FileManager.default.removeItem(at: root) }
        let slow = try StandInServer(mode: "trickle", folder: root)
        defer { slow.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        _ = try await RecapProcess.run(["run", input.path, "--enqueue-only", "--out", out.path] + engine(slow))
        let (p, stdout, stderr) = try RecapProcess.start(["worker", "--out", out.path, "--timeout", "300"] + engine(slow))
        var waited = 0
        while try slow.chats().isEmpty && waited < 600 { try await Task.sleep(for: .milliseconds(100)); waited += 1 }
        #expect(try !slow.chats().isEmpty, "no request reached the engine")
        let (stopped, status, err) = try await RecapProcess.stop(p, stdout: stdout, stderr: stderr, with: SIGTERM)
        #expect(stopped, "the worker ignored SIGTERM for 60 s")
        #expect(status == 0, "a stopped worker exits 0: \(err)")
        let store = try JobStore(url: out.appendingPathComponent(".recap/store.sqlite"), options: .init(create: false))
        let jobs = try store.jobs()
        #expect(jobs.count == 1 && jobs.allSatisfy { $0.state == .queued }, "given back, not left running: \(jobs.map(\.state))")
        #expect(try store.workers().count == 1)
        try store.close()
    }
}
