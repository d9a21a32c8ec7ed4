import Foundation
import Engine
import Media
import Store
import Testing
@testable import Pipeline

/// The engine boundary seen from the pipeline: what the hear and see stages send, what they accept, and the
/// job key. Scripted engine and media; the wire itself is checked against a stand-in server in StandInEngineTests.
@Suite struct BoundaryTests {
    func runner(_ dir: URL, engine: FakeEngine, media: FakeMedia, transcripts: TranscriptSource = .whisper,
                paths: [String] = []) throws -> (Runner, JobStore) {
        let store = try JobStore(url: dir.appendingPathComponent("out/.recap/store.sqlite"))
        let out = OutputPaths(root: dir.appendingPathComponent("out")).separating(paths)
        let r = Runner(config: .init(spec: try loadBuiltin("summarize"), out: out, workRoot: dir.appendingPathComponent("out/.recap/work"),
                                     jobs: 1, leaseSeconds: 30, transcripts: transcripts),
                       store: store, media: media, speech: media, engine: engine, progress: ProgressReporter(mode: .quiet))
        return (r, store)
    }

    static func summary(_ call: EngineCall) -> JSONValue {
        .object(["title": .string("Rivers"), "one_line": .string("About rivers."), "paragraph": .string("Rivers and deltas."),
                 "key_points": .array([]), "tags": .array([]), "chapters": .array([])])
    }

    @Test func anEngineThatHearsWritesTheTranscriptFromAudioParts() async throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try Data("a".utf8).write(to: input.appendingPathComponent("a.mp4"))
        let engine = FakeEngine(hearsAudio: true) { call in
            guard call.purpose == "hear" else { return Self.summary(call) }
            return ["language": "en", "music": false, "tone": "calm", "sounds": ["birds"],
                    "segments": [["start": 0.002, "end": 99, "text": "Rivers carry water to the sea."]]]
        }
        let media = FakeMedia()
        let (r, _) = try runner(dir, engine: engine, media: media, transcripts: .engine)
        let s = await r.run(Discovery().discover([input]))
        #expect(s.succeeded == 1, "\(s.failures)")
        // One request per clip, the clip itself as an audio part with its start; whisper never ran.
        let hear = engine.calls.filter { $0.purpose == "hear" }
        #expect(hear.count == 1)
        let audio: [EngineAudio] = hear.first?.parts.compactMap { p -> EngineAudio? in if case .audio(let a) = p { return a }; return nil } ?? []
        #expect(audio.count == 1 && audio.first?.samples.count == 160 && audio.first?.start == 0)
        #expect(!media.calls.contains("transcribe"))
        let out = try RecapOutput.decode(Data(contentsOf: dir.appendingPathComponent("out/a.recap.json")))
        #expect(out.transcript?.source == "engine")
        // Times are clamped into the clip (160 samples = 0.01 s).
        #expect(out.transcript?.segments == [.init(start: 0.002, end: 0.01, text: "Rivers carry water to the sea.")])
        #expect(out.transcript?.heard == [.init(start: 0, end: 0.01, sounds: ["birds"], music: false, tone: "calm")])
        #expect(out.engine.models["audio"] == "fake" && out.engine.models["speech"] == nil)
        #expect(out.provenance["transcript"] == "model")
    }

    @Test func whisperTranscriptsNameWhisperAndNoAudioPartIsSent() async throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try Data("a".utf8).write(to: input.appendingPathComponent("a.mp4"))
        let engine = FakeEngine(hearsAudio: false) { Self.summary($0) }
        let (r, _) = try runner(dir, engine: engine, media: FakeMedia())
        _ = await r.run(Discovery().discover([input]))
        #expect(engine.calls.allSatisfy { $0.parts.allSatisfy { if case .audio = $0 { return false }; return true } })
        let out = try RecapOutput.decode(Data(contentsOf: dir.appendingPathComponent("out/a.recap.json")))
        #expect(out.transcript?.source == "whisper" && out.engine.models["speech"] == "fake-whisper")
        #expect(out.engine.models["vision"] == nil && out.engine.models["ocr"] == "fake-ocr")
    }

    @Test func framesGoToAnEngineThatSeesAndEchoedAnswersAreRejected() async throws {
        let frames = FrameSet(frames: (0..<3).map { FrameSample(time: Double($0) * 4 + 1, file: "f.jpg", isKeyframe: true, facts: nil, ocrText: "") },
                              sceneCuts: [], contactSheet: nil)
        let work = try tempDir()
        try Data([0xFF, 0xD8, 0xFF, 0xD9]).write(to: work.appendingPathComponent("f.jpg"))
        // First answer: the second frame's description only restates the instructions; the re-ask fixes it.
        let engine = FakeEngine(acceptsImages: true, maxImages: 2) { call in
            let n = call.parts.filter { if case .image = $0 { return true }; return false }.count
            let reask = call.instructionText.contains("do not repeat")
            let d: [JSONValue] = (0..<n).map { i in
                (i == 1 && !reask) ? "describe video frames accurately briefly Describe" : "A river delta seen from above."
            }
            return ["descriptions": .array(d)]
        }
        let counter = EngineCallCounter()
        let seen = try await SeeStage(engine: engine, describe: true).run(frames, duration: 12, work: work, counter: counter)
        #expect(seen.scenes.map(\.descriptionSource) == ["model", "model", "model"])
        #expect(seen.warnings.isEmpty)
        // Two frames per request (the engine's limit), then one re-ask for the rejected frame.
        #expect(engine.calls.count == 3 && counter.value == 3)
        let images: [EngineImage] = engine.calls[0].parts.compactMap { p -> EngineImage? in if case .image(let i) = p { return i }; return nil }
        #expect(images.map(\.time) == [1, 5] && images.allSatisfy { $0.ocrText == "" })

        // An engine that only echoes: asked twice, then reported, and the measured description stands.
        let parrot = FakeEngine(acceptsImages: true, maxImages: 8) { call in
            let n = call.parts.filter { if case .image = $0 { return true }; return false }.count
            return ["descriptions": .array(Array(repeating: "Describe what each of these video frames shows", count: n))]
        }
        let echoed = try await SeeStage(engine: parrot, describe: true).run(frames, duration: 12, work: work, counter: EngineCallCounter())
        #expect(echoed.scenes.allSatisfy { $0.descriptionSource == "measured" })
        #expect(echoed.warnings.count == 3 && echoed.warnings.allSatisfy { $0.contains("restated the prompt") })
        #expect(parrot.calls.count == 2)
    }

    @Test func answerCheckTellsDescriptionsFromEchoes() {
        let prompt = SeeStage.system + " " + SeeStage.task(1)
        #expect(AnswerCheck.problem("describe video frames accurately briefly Describe", instructions: prompt) != nil)
        #expect(AnswerCheck.problem("   ", instructions: prompt) != nil)
        #expect(AnswerCheck.problem("A slide titled The Lighthouse of Alexandria over a blue sea.", instructions: prompt) == nil)
        #expect(AnswerCheck.problem("Two people talk in a kitchen.", instructions: prompt) == nil)
    }

    @Test func copiesAndMovesGetTheirOwnOutputsWithoutEngineCalls() async throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("same bytes".utf8).write(to: input.appendingPathComponent("sub/a.mp4"))
        try Data("same bytes".utf8).write(to: input.appendingPathComponent("copy.mp4"))
        let engine = FakeEngine { Self.summary($0) }
        let (r, _) = try runner(dir, engine: engine, media: FakeMedia())
        let s = await r.run(Discovery().discover([input]))
        #expect(s.succeeded == 1 && s.placed == 1 && engine.calls.count == 1)
        let out = dir.appendingPathComponent("out")
        let copy = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("copy.recap.json")))
        #expect(copy.source.path == "copy.mp4" && copy.files.json == "copy.recap.json" && copy.files.srt == "copy.srt")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("copy.srt").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("sub/a.recap.json").path))

        // The original moves: its outputs follow it, the stale ones go; the copy keeps its own.
        try FileManager.default.createDirectory(at: input.appendingPathComponent("moved"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: input.appendingPathComponent("sub/a.mp4"), to: input.appendingPathComponent("moved/b.mp4"))
        let s2 = await r.run(Discovery().discover([input]))
        #expect(engine.calls.count == 1, "a move made new engine calls")
        #expect(s2.placed == 1 && s2.moved == 1, "\(s2)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("moved/b.recap.json").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("sub/a.recap.json").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("sub/a.srt").path))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("copy.recap.json").path))
        // And a third run has nothing to place.
        let s3 = await r.run(Discovery().discover([input]))
        #expect(s3.placed == 0 && s3.unchanged == 2 && engine.calls.count == 1)
    }

    @Test func inputsThatWouldShareOutputNamesKeepTheirOwn() throws {
        let out = OutputPaths(root: URL(fileURLWithPath: "/tmp/recap-out"))
        let paths = ["talks/clip.mp4", "talks/clip.mkv", "talks/solo.mp4", "a\nb.mp4", "a_b.mp4", "other/clip.mp4"]
        let separated = out.separating(paths)
        let names = try paths.map { try separated.file(forRelativePath: $0, suffix: ".recap.json").path }
        #expect(Set(names).count == paths.count, "\(names)")
        #expect(names[0].hasSuffix("talks/clip.mp4.recap.json") && names[1].hasSuffix("talks/clip.mkv.recap.json"))
        #expect(names[2].hasSuffix("talks/solo.recap.json") && names[5].hasSuffix("other/clip.recap.json"))
    }

    @Test func theJobKeyHashesThePipelineTextNotSwiftNames() throws {
        let yaml = """
            name: tiny
            version: 3
            description: only words for people
            prompts:
              reduce: {system: "Be brief.", template: "{transcript}", max_tokens: 64}
            output:
              schema: {type: object, required: [title], properties: {title: {type: string, maxLength: 80}}}
            """
        let engine = EngineDescription(backend: "openai", identity: "openai|language=gemma-3n-E4B-it", models: [:],
                                       capabilities: EngineCapabilities(images: true, audio: true, jsonSchema: true, contextTokens: 32_768))
        let key = JobKey(spec: try PipelineSpec.parse(yaml: yaml, source: "tiny.yaml"), engine: engine, transcripts: "engine").identity
        // Pinned: this value only changes when the documented encoding does, never when Swift code is renamed.
        #expect(key == JobIdentity(pipeline: "tiny", pipelineVersion: "3#4d6f8dbc2a602942", engine: "openai|language=gemma-3n-E4B-it|transcripts=engine"))

        // Reformatting, reordering, comments and the description do not make new work...
        let same = """
            # a comment
            version: 3
            name: tiny
            description: other words for people
            output:
              schema:
                type: object
                properties: {title: {maxLength: 80, type: string}}
                required: [title]
            prompts:
              reduce: {template: "{transcript}", system: "Be brief.", max_tokens: 64}
            """
        #expect(JobKey(spec: try PipelineSpec.parse(yaml: same, source: "b.yaml"), engine: engine, transcripts: "engine").identity == key)
        // ...a changed prompt does, and so does a different transcript source.
        let edited = yaml.replacingOccurrences(of: "Be brief.", with: "Be very brief.")
        #expect(JobKey(spec: try PipelineSpec.parse(yaml: edited, source: "c.yaml"), engine: engine, transcripts: "engine").identity != key)
        #expect(JobKey(spec: try PipelineSpec.parse(yaml: yaml, source: "d.yaml"), engine: engine, transcripts: "whisper:base").identity != key)
    }

    /// Releases before Silero VAD transcribed music into words: their transcribing jobs are not this work, so
    /// an upgrade redoes them once (the store still holds them, under their old key).
    @Test func transcribedJobsOfTheReleaseBeforeVADAreRedoneOnce() async throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try Data("a".utf8).write(to: input.appendingPathComponent("a.mp4"))
        let engine = FakeEngine { Self.summary($0) }
        let (r, store) = try runner(dir, engine: engine, media: FakeMedia())
        _ = await r.run(Discovery().discover([input]))
        // As the store of the release before would hold it: the same job under the old key.
        let legacy = JobKey.legacyIdentity(spec: r.spec, engine: engine.description, whisperModel: "fake-whisper")
        #expect(legacy.pipelineVersion != r.identity.pipelineVersion)
        #expect(try store.adopt(r.identity, as: legacy) == 1)
        let s = await r.run(Discovery().discover([input]))
        #expect(s.succeeded == 1 && s.unchanged == 0 && engine.calls.count == 2, "\(s)")
        let again = await r.run(Discovery().discover([input]))
        #expect(again.unchanged == 1 && engine.calls.count == 2, "redone once, then unchanged: \(again)")
    }

    @Test func inputsThatCannotBeReadFailTheRunEvenForRoot() async throws {
        // A FIFO and a broken link are unreadable for root too (a chmod 000 file is not), so this holds in CI.
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("a".utf8).write(to: input.appendingPathComponent("a.mp4"))
        #expect(mkfifo(input.appendingPathComponent("pipe.mp4").path, 0o644) == 0)
        try FileManager.default.createSymbolicLink(at: input.appendingPathComponent("gone.mp4"), withDestinationURL: input.appendingPathComponent("nowhere.mp4"))
        try FileManager.default.createSymbolicLink(at: input.appendingPathComponent("sub/loop"), withDestinationURL: input)
        let engine = FakeEngine { Self.summary($0) }
        let (r, _) = try runner(dir, engine: engine, media: FakeMedia())
        let s = await r.run(Discovery().discover([input]))
        #expect(s.succeeded == 1 && s.exitCode == 2, "\(s)")
        let failed = s.failures.map { URL(fileURLWithPath: $0.path).lastPathComponent }.sorted()
        #expect(failed == ["gone.mp4", "pipe.mp4"], "\(s.failures)")
        #expect(s.failures.allSatisfy { !$0.reason.isEmpty })
        // A symlink loop is only a repeat of what was walked already: noted, not a failure.
        #expect(s.discoveryIssues.contains { $0.contains("loop") })
    }
}
