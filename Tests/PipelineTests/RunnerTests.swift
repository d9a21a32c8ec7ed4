import Foundation
import Engine
import Media
import Store
import Testing
@testable import Pipeline

/// Scripted media and speech for the runner's logic tests (the end-to-end tests use the real ones).
final class FakeMedia: MediaPort, SpeechPort, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [String] = []
    var calls: [String] { lock.withLock { _calls } }
    func note(_ s: String) { lock.withLock { _calls.append(s) } }

    func probe(_ url: URL) async throws -> RecapOutput.Probe {
        note("probe \(url.lastPathComponent)")
        if url.lastPathComponent.hasPrefix("bad") { throw Bad(path: url.path) }
        return Pipeline_probe(duration: 12)
    }
    func sampleFrames(_ url: URL, settings: PipelineSpec.Frames, probe: RecapOutput.Probe, into folder: URL) async throws -> FrameSet {
        note("frames \(url.lastPathComponent)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let f = folder.appendingPathComponent("f0.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xD9]).write(to: f)
        return FrameSet(frames: [FrameSample(time: 6, file: f.path, isKeyframe: true, facts: .init(brightness: 0.5), ocrText: "HELLO")],
                        sceneCuts: [0], contactSheet: nil)
    }
    func extractAudio(_ url: URL, clipSeconds: Double, into folder: URL) async throws -> AudioSet {
        note("audio \(url.lastPathComponent)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let f = folder.appendingPathComponent("c0.f32")
        try [Float](repeating: 0, count: 160).withUnsafeBufferPointer { Data(buffer: $0) }.write(to: f)
        return AudioSet(clips: [AudioClipFile(start: 0, duration: 12, file: f.path)])
    }
    let modelName = "fake-whisper"
    let ocrModel: String? = "fake-ocr"
    func transcribe(_ blocks: AsyncThrowingStream<AudioClip, any Error>, language: String, prompt: String?) async throws -> SpeechResult {
        for try await _ in blocks {}
        note("transcribe")
        return SpeechResult(language: "en", segments: [.init(start: 1, end: 4, text: "Rivers carry water to the sea."),
                                                        .init(start: 5, end: 9, text: "Deltas form where rivers slow down.")])
    }
    struct Bad: Error, CustomStringConvertible { var path: String; var description: String { "\(path): not a media file" } }
}

func Pipeline_probe(duration: Double) -> RecapOutput.Probe { probe(duration: duration) }

@Suite struct RunnerTests {
    func answer(_ call: EngineCall) -> JSONValue {
        .object(["title": .string("Rivers"), "one_line": .string("About rivers."), "paragraph": .string("Rivers and deltas."),
                 "key_points": .array([]), "tags": .array([]), "chapters": .array([])])
    }

    func runner(_ dir: URL, engine: FakeEngine, media: FakeMedia) throws -> (Runner, JobStore) {
        let store = try JobStore(url: dir.appendingPathComponent("out/.recap/store.sqlite"))
        let r = Runner(config: .init(spec: try loadBuiltin("summarize"), out: OutputPaths(root: dir.appendingPathComponent("out")),
                                     workRoot: dir.appendingPathComponent("out/.recap/work"), jobs: 2, leaseSeconds: 30),
                       store: store, media: media, speech: media, engine: engine, progress: ProgressReporter(mode: .quiet))
        return (r, store)
    }

    func makeInputs(_ dir: URL) throws -> URL {
        let input = dir.appendingPathComponent("in/sub")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        for n in ["a.mp4", "b.mp4", "bad.mp4"] { try Data(n.utf8).write(to: input.appendingPathComponent(n)) }
        return dir.appendingPathComponent("in")
    }

    @Test func runsWritesFailsCleanlyAndRerunsWithoutEngineCalls() async throws {
        let dir = try tempDir()
        let input = try makeInputs(dir)
        let engine = FakeEngine { self.answer($0) }
        let media = FakeMedia()
        let (r, store) = try runner(dir, engine: engine, media: media)
        let s = await r.run(Discovery().discover([input]))
        #expect(s.succeeded == 2)
        #expect(s.failures.map(\.path) == ["sub/bad.mp4"] && s.failures.first?.stage == "probe")
        #expect(s.exitCode == 2)
        #expect(s.engineCalls == 2 && engine.calls.count == 2)
        let json = try RecapOutput.decode(Data(contentsOf: dir.appendingPathComponent("out/sub/a.recap.json")))
        #expect(json.transcript?.segments.count == 2 && json.scenes.first?.ocrText == "HELLO")
        #expect(json.results["title"]?.stringValue == "Rivers")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/sub/a.srt").path))
        // The two segments are one search passage (one speaker, no pause): the hit points at its start.
        #expect(try store.search("deltas").contains { $0.path.hasSuffix("a.mp4") && $0.start == 1 && $0.end == 9 })
        // The work folders of finished jobs are gone.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out/.recap/work").path))?.isEmpty ?? true)

        // Again: nothing to do, no engine call, no media decoding; the bad file is still reported.
        let before = media.calls.count
        let s2 = await r.run(Discovery().discover([input]))
        #expect(s2.engineCalls == 0 && engine.calls.count == 2)
        #expect(s2.unchanged == 2 && s2.succeeded == 0)
        #expect(media.calls.count == before)
        #expect(s2.failures.count == 1 && s2.exitCode == 2)
    }

    @Test func engineOutageStopsTheRunAndTheNextRunResumesAtTheFirstUnfinishedStage() async throws {
        let dir = try tempDir()
        let input = try makeInputs(dir)
        try FileManager.default.removeItem(at: input.appendingPathComponent("sub/bad.mp4"))
        let down = FakeEngine { _ in throw EngineUnavailable("is llama-server running?") }
        let media = FakeMedia()
        let (r1, store) = try runner(dir, engine: down, media: media)
        let s1 = await r1.run(Discovery().discover([input]))
        #expect(s1.exitCode == 3 && s1.engineUnavailable != nil)
        // Leases were given back: the jobs are queued again with their checkpoints.
        let jobs = try store.jobs()
        #expect(jobs.allSatisfy { $0.state == .queued })
        let withTranscripts = try jobs.filter { try store.checkpoints(jobID: $0.id)[.transcribe] != nil }
        let withProbe = try jobs.filter { try store.checkpoints(jobID: $0.id)[.probe] != nil }
        #expect(!withTranscripts.isEmpty)

        let up = FakeEngine { self.answer($0) }
        let (r2, _) = try runner(dir, engine: up, media: media)
        let probesBefore = media.calls.filter { $0.hasPrefix("probe") }.count
        let transcribesBefore = media.calls.filter { $0 == "transcribe" }.count
        let s2 = await r2.run(Discovery().discover([input]))
        #expect(s2.exitCode == 0 && s2.succeeded == 2)
        // Checkpointed stages were not run again.
        let probesAfter = media.calls.filter { $0.hasPrefix("probe") }.count
        #expect(probesAfter - probesBefore == 2 - withProbe.count)
        // Each job without a transcript checkpoint is transcribed again (once, or twice when the outage hit
        // while its transcript was being written: timing decides); one with a checkpoint never is.
        let transcribed = media.calls.filter { $0 == "transcribe" }.count - transcribesBefore
        #expect(transcribed >= 2 - withTranscripts.count && transcribed <= 2 * (2 - withTranscripts.count), "\(transcribed) transcriptions")
        #expect(up.calls.count == 2)
    }

    @Test func workFoldersLeftByAKillAreSweptWhenTheirJobIsDone() async throws {
        let dir = try tempDir()
        let input = try makeInputs(dir)
        let engine = FakeEngine { self.answer($0) }
        let (r, store) = try runner(dir, engine: engine, media: FakeMedia())
        _ = await r.run(Discovery().discover([input]))
        // As a kill -9 just after `complete` leaves them: the folder of a finished job, and one of no job at all.
        let done = try #require(try store.jobs(state: .succeeded).first)
        let work = dir.appendingPathComponent("out/.recap/work")
        for name in ["\(done.id)/audio", "424242/frames"] {
            try FileManager.default.createDirectory(at: work.appendingPathComponent(name), withIntermediateDirectories: true)
            try Data(count: 640).write(to: work.appendingPathComponent(name + "/clip-00000.f32"))
        }
        _ = await r.run(Discovery().discover([input]))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: work.path))?.isEmpty ?? true)
    }
}
