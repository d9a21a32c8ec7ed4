import Foundation
import PostgresStore
import Store
import Testing
import ThrowawayPostgres
@testable import Pipeline

/// Copies and moves get their outputs from the finished work on a shared PostgreSQL store too: the job comes
/// from the database, the places a content was seen from this host's stat cache, and the finished job's
/// outputs are found under this host's output folder even where another host wrote them under another mount.
@Suite struct SharedPlacementTests {
    @Test func copiesAndMovesGetTheirOutputsOnASharedStoreWhereverTheOutputFolderIsMounted() async throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("same bytes".utf8).write(to: input.appendingPathComponent("sub/a.mp4"))
        let shared = try await PostgresJobStore.open(url: try TestCluster.shared.get().makeDatabase())
        let local = try JobStore(url: dir.appendingPathComponent("host/store.sqlite"))
        let engine = FakeEngine { BoundaryTests.summary($0) }
        func runner(out: String) -> Runner {
            Runner(config: .init(spec: try! loadBuiltin("summarize"), out: OutputPaths(root: dir.appendingPathComponent(out)),
                                 workRoot: dir.appendingPathComponent("host/work"), jobs: 1, leaseSeconds: 30, transcripts: .whisper),
                   store: shared, local: local, media: FakeMedia(), speech: FakeMedia(), engine: engine,
                   progress: ProgressReporter(mode: .quiet))
        }
        let first = await runner(out: "out").run(Discovery().discover([input]))
        #expect(first.succeeded == 1 && engine.calls.count == 1, "\(first.failures)")

        // The output folder is now reached under another name (another host's mount of the same share), and
        // a copy of the file appears: its outputs come from the job's, found under this mount.
        try FileManager.default.moveItem(at: dir.appendingPathComponent("out"), to: dir.appendingPathComponent("mnt"))
        try Data("same bytes".utf8).write(to: input.appendingPathComponent("copy.mp4"))
        let second = await runner(out: "mnt").run(Discovery().discover([input]))
        #expect(second.placed == 1 && engine.calls.count == 1, "\(second)")
        let mnt = dir.appendingPathComponent("mnt")
        let copy = try RecapOutput.decode(Data(contentsOf: mnt.appendingPathComponent("copy.recap.json")))
        #expect(copy.source.path == "copy.mp4" && copy.files.srt == "copy.srt")
        #expect(FileManager.default.fileExists(atPath: mnt.appendingPathComponent("copy.srt").path))

        // The original moves: its outputs follow it and the stale ones go, with no engine call.
        try FileManager.default.createDirectory(at: input.appendingPathComponent("moved"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: input.appendingPathComponent("sub/a.mp4"), to: input.appendingPathComponent("moved/b.mp4"))
        let third = await runner(out: "mnt").run(Discovery().discover([input]))
        #expect(engine.calls.count == 1, "a move made new engine calls")
        #expect(third.moved == 1, "\(third)")
        #expect(FileManager.default.fileExists(atPath: mnt.appendingPathComponent("moved/b.recap.json").path))
        #expect(!FileManager.default.fileExists(atPath: mnt.appendingPathComponent("sub/a.recap.json").path))
        #expect(FileManager.default.fileExists(atPath: mnt.appendingPathComponent("copy.recap.json").path))
        let fourth = await runner(out: "mnt").run(Discovery().discover([input]))
        #expect(fourth.placed == 0 && engine.calls.count == 1, "\(fourth)")
        await shared.close()
    }
}
