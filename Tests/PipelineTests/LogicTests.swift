import Foundation
import Synchronization
import Engine
import Testing
@testable import Pipeline

@Suite struct DiscoveryTests {
    @Test func walksRecursivelyAndReportsHiddenLoopsAndNonMedia() throws {
        let root = try tempDir()
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("talks/day1"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent("talks/day1/intro.MP4"))
        try Data("x".utf8).write(to: root.appendingPathComponent("clip.m4a"))
        try Data("x".utf8).write(to: root.appendingPathComponent("notes.txt"))
        try Data("x".utf8).write(to: root.appendingPathComponent(".secret.mp4"))
        try fm.createDirectory(at: root.appendingPathComponent(".cache"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent(".cache/c.mp4"))
        try fm.createSymbolicLink(at: root.appendingPathComponent("talks/day1/loop"), withDestinationURL: root.appendingPathComponent("talks"))
        try fm.createSymbolicLink(at: root.appendingPathComponent("dangling.mp4"), withDestinationURL: root.appendingPathComponent("gone.mp4"))
        try fm.createSymbolicLink(at: root.appendingPathComponent("alias.mp4"), withDestinationURL: root.appendingPathComponent("talks/day1/intro.MP4"))

        let r = Discovery().discover([root])
        #expect(r.files.map(\.relativePath).sorted() == ["clip.m4a", "talks/day1/intro.MP4"] || r.files.map(\.relativePath).sorted() == ["alias.mp4", "clip.m4a"])
        #expect(r.files.count == 2)  // the symlinked alias is the same file, counted once
        #expect(r.skippedHidden == 2)
        #expect(r.skippedNotMedia == 1)
        #expect(r.issues.contains { $0.reason.contains("loop") })
        #expect(r.issues.contains { $0.path.hasSuffix("dangling.mp4") && $0.reason.contains("broken") })
    }

    @Test func explicitFilesAreCandidatesAndOutputFolderIsExcluded() throws {
        let root = try tempDir()
        try Data("x".utf8).write(to: root.appendingPathComponent("weird.bin"))
        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: out.appendingPathComponent("old.mp4"))
        #expect(Discovery().discover([root.appendingPathComponent("weird.bin")]).files.count == 1)
        #expect(Discovery(excluded: [out]).discover([root]).files.isEmpty)
        let missing = Discovery().discover([root.appendingPathComponent("nope")])
        #expect(missing.files.isEmpty && missing.issues.count == 1)
    }

    @Test func unreadableFolderIsReportedNotFatal() throws {
        // Root reads everything; the check only means something for an ordinary user.
        guard geteuid() != 0 else { return }
        let root = try tempDir()
        let locked = root.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        chmod(locked.path, 0)
        defer { chmod(locked.path, 0o755) }
        let r = Discovery().discover([root])
        #expect(r.issues.contains { $0.path.hasSuffix("locked") })
    }
}

@Suite struct GroundingTests {
    let segments: [RecapOutput.Segment] = [
        .init(start: 0, end: 4, text: "Rivers carry water from the mountains to the sea."),
        .init(start: 4, end: 8, text: "Um, okay."),
        .init(start: 8, end: 12, text: "The water in rivers comes from rain and melting snow in the mountains."),
        .init(start: 12, end: 16, text: "My cat likes tuna."),
        .init(start: 16, end: 20, text: "Rivers shape valleys as the water flows to the sea."),
    ]

    @Test func extractivePicksCentralSentencesInTimeOrder() {
        let s = Extractive.sentences(segments)
        #expect(s.count == 4)  // "Um, okay." is too short to be a sentence of its own
        let top = Extractive.central(s, count: 2)
        #expect(top.count == 2)
        #expect(top.allSatisfy { $0.0.text.lowercased().contains("river") })
        #expect(top[0].0.start < top[1].0.start)
        #expect(Extractive.keywords(segments.map(\.text).joined(separator: " "), count: 2).contains("rivers"))
    }

    @Test func extractiveKeepsOneOfRepeatedSentences() {
        let line = "The river delta forms slowly over thousands of years."
        let repeated: [RecapOutput.Segment] = [
            .init(start: 0, end: 4, text: line), .init(start: 4, end: 8, text: "Birds nest on the new land of the delta."),
            .init(start: 8, end: 12, text: line), .init(start: 12, end: 16, text: line.uppercased()),
        ]
        let top = Extractive.central(Extractive.sentences(repeated), count: 3)
        #expect(top.count == 2)
        #expect(Set(top.map { $0.0.text.lowercased() }).count == 2)
    }

    @Test func answerRoomCoversTheSchemaWithinAQuarterOfTheContext() throws {
        let spec = try loadBuiltin("summarize")
        let bound = Summarizer.tokenBound(spec.resultSchema)
        // title 100 chars + one line 200 + paragraph 600 + 6 key points of 200 + ...: well over the YAML's 320.
        #expect(bound > 900 && bound < 3000)
        #expect(Summarizer.tokenBound(["type": "string", "maxLength": 30]) == 12)
        let small = Summarizer(spec: spec, engine: FakeEngine(context: 2048) { _ in .object([:]) })
        #expect(small.answerTokens(spec.reducePrompt, schema: spec.resultSchema) == 512)
        let big = Summarizer(spec: spec, engine: FakeEngine(context: 32768) { _ in .object([:]) })
        #expect(big.answerTokens(spec.reducePrompt, schema: spec.resultSchema) == bound)
        // A small engine is asked for the text fields only; lists come from the extractive pass and scenes.
        let asked = { (s: Summarizer) in Set(s.modelSchema["properties"]?.objectValue?.keys.map { $0 } ?? []) }
        #expect(asked(small) == ["title", "one_line", "paragraph"])
        #expect(asked(big) == ["title", "one_line", "paragraph", "key_points", "tags", "chapters"])
    }

    @Test func noSpeechNoTextMakesNoEngineCallAndSaysSo() async throws {
        let engine = FakeEngine { _ in .object(["title": .string("A thrilling chase")]) }
        let spec = try loadBuiltin("summarize")
        let e = Evidence(fileName: "music.mp4", probe: probe(duration: 20), segments: [], scenes: [scene(0, 0, 10), scene(1, 10, 20)])
        let o = try await Summarizer(spec: spec, engine: engine).run(e, counter: EngineCallCounter())
        #expect(engine.calls.isEmpty)
        #expect(o.engineCalls == 0)
        #expect(!o.grounding.hasSpeech && !o.grounding.hasOnScreenText)
        #expect(o.grounding.note.contains("No speech and no on-screen text"))
        // A description of what was measured, never an error sentence or a story.
        let title = o.results["title"]?.stringValue ?? ""
        #expect(title.hasPrefix("A 20-second clip") && TitleCheck.problem(title) == nil, "\(title)")
        #expect(o.results["one_line"]?.stringValue?.contains("no speech or on-screen text") == true)
        #expect(o.provenance["results.title"] == "measured")
        #expect(JSONSchemaValidator(schema: spec.resultSchema).violations(of: o.results).map(\.description) == [])
        // Chapters still carry measured times: one per scene.
        #expect(o.results["chapters"]?.arrayValue?.compactMap { $0["start"]?.doubleValue } == [0, 10])
    }

    @Test func singleRequestWhenItFitsWithExtractiveBackup() async throws {
        let spec = try loadBuiltin("summarize")
        let engine = FakeEngine { call in
            #expect(call.schema["properties"]?["scenes"] == nil)  // measured fields are not asked of the model
            return .object(["title": .string("Rivers"), "one_line": .string("About rivers."), "paragraph": .string("Rivers."),
                            "key_points": .array([]), "tags": .array([.string("rivers")]),
                            "chapters": .array([.object(["start": .number(7.2), "title": .string("Rain")])])])
        }
        let e = Evidence(fileName: "talk.mp4", probe: probe(duration: 20), segments: segments, scenes: [scene(0, 0, 20, ocr: "RIVERS 101")])
        let o = try await Summarizer(spec: spec, engine: engine).run(e, counter: EngineCallCounter())
        #expect(engine.calls.count == 1 && o.chunks == 1)
        let prompt = engine.calls.first.map { call -> String in
            if case .text(let t) = call.parts[0] { return t }; return ""
        } ?? ""
        #expect(prompt.contains("RIVERS 101") && prompt.contains("[00:08]"))
        // Extractive sentences fill in the key points the model left out.
        #expect((o.results["key_points"]?.arrayValue ?? []).contains { $0.stringValue?.contains("Rivers") == true })
        #expect(o.provenance["results.key_points"] == "extractive" || o.provenance["results.key_points"] == "model+extractive")
        // The model's chapter time is snapped to a measured anchor (segment start 8).
        #expect(o.results["chapters"]?.arrayValue?.first?["start"]?.doubleValue == 8)
        #expect(JSONSchemaValidator(schema: spec.resultSchema).violations(of: o.results).map(\.description) == [])
    }

    @Test func longMediaIsMapReducedWithinTheBudget() async throws {
        let spec = try loadBuiltin("summarize")
        // 400 segments of ~12 words: far more than a 700-token context holds.
        let long = (0..<400).map { i in RecapOutput.Segment(start: Double(i) * 9, end: Double(i) * 9 + 8,
                                                            text: "Segment \(i) talks about rivers, valleys and the long road to the sea.") }
        let engine = FakeEngine(context: 1400) { call in
            if call.purpose == "map" || call.purpose == "combine" {
                return .object(["summary": .string("Part about rivers."), "key_points": .array([])])
            }
            return .object(["title": .string("Rivers"), "one_line": .string("x"), "paragraph": .string("y"),
                            "key_points": .array([]), "tags": .array([]), "chapters": .array([])])
        }
        let e = Evidence(fileName: "lecture.mp4", probe: probe(duration: 3600), segments: long, scenes: [])
        let o = try await Summarizer(spec: spec, engine: engine).run(e, counter: EngineCallCounter())
        let maps = engine.calls.filter { $0.purpose == "map" }
        #expect(maps.count > 1 && o.chunks == maps.count)
        // The reduce comes last, then (its "x" and "y" are no summary) one re-ask for the lost fields.
        #expect(engine.calls.suffix(2).map(\.purpose) == ["reduce", "summarize again"])
        for call in engine.calls { #expect(FakeEngine.tokens(call) + call.maxTokens <= 1400) }
        // Every segment went into exactly one map request.
        let mapped = maps.map { c -> Int in
            if case .text(let t) = c.parts[0] { return t.components(separatedBy: "talks about rivers").count - 1 }; return 0
        }.reduce(0, +)
        #expect(mapped == 400)
    }

    @Test func limitsAreEnforcedAfterTheModel() async throws {
        let spec = try loadBuiltin("social")
        // Long, and every sentence different (a repeated sentence would be dropped as a loop before the limits).
        let vocabulary = ["rivers", "wonderful", "places", "visit", "summer"]
        let long = vocabulary.flatMap { a in vocabulary.filter { $0 != a }.flatMap { b in
            vocabulary.filter { $0 != a && $0 != b }.map { c in "\(a.capitalized) \(b) \(c)." } } }.joined(separator: " ")
        let engine = FakeEngine { _ in
            .object(["short_caption": .string(long), "long_caption": .string(long), "alt_text": .string(long),
                     "hashtags": .array((0..<9).map { .string("tag \($0)") }),
                     "posts": .array([.object(["platform": .string("x"), "caption": .string(long), "hashtags": .array([])]),
                                      .object(["platform": .string("youtube"), "caption": .string(long), "hashtags": .array([])])])])
        }
        let segs = [RecapOutput.Segment(start: 0, end: 5, text: "Rivers are wonderful places to visit in summer.")]
        let e = Evidence(fileName: "v.mp4", probe: probe(duration: 30), segments: segs, scenes: [scene(0, 0, 1), scene(1, 1, 30)])
        let o = try await Summarizer(spec: spec, engine: engine).run(e, counter: EngineCallCounter())
        let r = o.results
        #expect((r["short_caption"]?.stringValue?.count ?? 999) <= 150)
        // Cut at a sentence end when one keeps half the room, else at a word with an ellipsis.
        #expect(r["short_caption"]?.stringValue.map { $0.hasSuffix("…") || $0.hasSuffix(".") } == true)
        #expect((r["hashtags"]?.arrayValue?.count ?? 99) <= 5)
        #expect(r["hashtags"]?.arrayValue?.allSatisfy { $0.stringValue?.hasPrefix("#") == true && !($0.stringValue?.contains(" ") ?? true) } == true)
        let posts = r["posts"]?.arrayValue ?? []
        #expect(posts.first { $0["platform"]?.stringValue == "x" }?["caption"]?.stringValue?.count ?? 999 <= 280)
        #expect(posts.first { $0["platform"]?.stringValue == "youtube" }?["caption"]?.stringValue?.count ?? 999 <= 100)
        #expect(r["cover_frame_time"]?.doubleValue == 15.5)  // the frame away from the very start
        #expect(JSONSchemaValidator(schema: spec.resultSchema).violations(of: r).map(\.description) == [])
    }

    @Test func whatTheModelLeavesOutIsFilledFromWhatWasSaid() async throws {
        let spec = try loadBuiltin("archive-index")
        // A valid answer that holds nothing (a small model's worst case).
        let engine = FakeEngine { _ in .object([:]) }
        let segs = [RecapOutput.Segment(start: 0, end: 5, text: "Quarterly budget review for the harbour project.")]
        let e = Evidence(fileName: "m.mp4", probe: probe(duration: 5), segments: segs, scenes: [])
        let o = try await Summarizer(spec: spec, engine: engine).run(e, counter: EngineCallCounter())
        // What was said stands in for the model's line, marked as extractive.
        #expect(o.results["one_line"]?.stringValue == segs[0].text)
        #expect(o.provenance["results.one_line"] == "extractive")
        #expect(o.results["transcript"]?.stringValue == segs[0].text)
        #expect(JSONSchemaValidator(schema: spec.resultSchema).violations(of: o.results).map(\.description) == [])
        let keywords = o.results["keywords"]?.arrayValue ?? []
        #expect(keywords.contains(.string("harbour")))
    }

    @Test func onlyInvalidAnswersDegradeTheJobAndOneBrokenChunkIsAWarning() async throws {
        let spec = try loadBuiltin("archive-index")
        let segs = [RecapOutput.Segment(start: 0, end: 5, text: "Quarterly budget review for the harbour project.")]
        let e = Evidence(fileName: "m.mp4", probe: probe(duration: 5), segments: segs, scenes: [])
        // The model answered, but never validly even after the engine's re-ask: the outputs are made from what
        // was said, and the outcome says it is degraded (the runner then marks the job so the next run asks
        // again), instead of passing the extractive stand-in off as done.
        let broken = FakeEngine { _ in throw EngineError.invalidOutput(reason: "not JSON", truncated: false, output: "garbage", attempts: 2) }
        let counter = EngineCallCounter()
        let bad = try await Summarizer(spec: spec, engine: broken).run(e, counter: counter)
        #expect(bad.degraded?.contains("no usable answer") == true && bad.degraded?.contains("not JSON") == true)
        #expect(bad.results["one_line"]?.stringValue == segs[0].text)
        #expect(bad.provenance["results.one_line"] == "extractive")
        #expect(!bad.provenance.values.contains { $0.hasPrefix("model") })
        #expect(counter.value >= 2)

        // Long media, map-reduce: one broken chunk among good ones is a warning, and the job goes on.
        let long = (0..<400).map { RecapOutput.Segment(start: Double($0) * 5, end: Double($0) * 5 + 4, text: "Sentence \($0) about harbour budgets and ships.") }
        let le = Evidence(fileName: "long.mp4", probe: probe(duration: 2000), segments: long, scenes: [])
        let first = Mutex(true)
        let flaky = FakeEngine(context: 2048) { call in
            if call.purpose == "map", first.withLock({ f in defer { f = false }; return f }) {
                throw EngineError.invalidOutput(reason: "cut off", truncated: true, output: "{", attempts: 2)
            }
            return ["summary": "Harbour budgets.", "key_points": [], "title": "Harbour", "one_line": "Harbour budgets."]
        }
        let o = try await Summarizer(spec: spec, engine: flaky).run(le, counter: EngineCallCounter())
        #expect(o.warnings.contains { $0.contains("no usable answer") })
    }

    @Test func aServerErrorDegradesTheSummaryAndAClientErrorFailsIt() async throws {
        // HTTP 500 after the retries is not the model's answer: the summary is degraded (outputs from what was
        // said, and the job is redone by the next run), never an extractive success a rerun would skip for good.
        let spec = try loadBuiltin("archive-index")
        let engine = FakeEngine { _ in throw EngineError.httpStatus(url: "http://127.0.0.1:1/v1/chat/completions", status: 500, body: "boom") }
        let segs = [RecapOutput.Segment(start: 0, end: 5, text: "Quarterly budget review for the harbour project.")]
        let e = Evidence(fileName: "m.mp4", probe: probe(duration: 5), segments: segs, scenes: [])
        let counter = EngineCallCounter()
        let o = try await Summarizer(spec: spec, engine: engine).run(e, counter: counter)
        #expect(o.degraded?.contains("HTTP 500") == true, "\(o.degraded ?? "not degraded")")
        #expect(o.results["one_line"]?.stringValue == segs[0].text)
        #expect(counter.value >= 1)
        // A 4xx is about this request (too large, a bad parameter): the job fails with its reason.
        let refusing = FakeEngine { _ in throw EngineError.httpStatus(url: "http://127.0.0.1:1/v1/chat/completions", status: 400, body: "bad") }
        await #expect(throws: EngineError.self) { try await Summarizer(spec: spec, engine: refusing).run(e, counter: EngineCallCounter()) }
    }

    @Test func engineUnavailableIsNotSwallowed() async throws {
        let spec = try loadBuiltin("summarize")
        let engine = FakeEngine { _ in throw EngineUnavailable("is llama-server running?") }
        let e = Evidence(fileName: "m.mp4", probe: probe(duration: 5), segments: segments, scenes: [])
        await #expect(throws: EngineUnavailable.self) { try await Summarizer(spec: spec, engine: engine).run(e, counter: EngineCallCounter()) }
    }
}

@Suite struct SpeechBlockTests {
    func clip(_ start: Double, _ duration: Double) -> AudioClipFile { AudioClipFile(start: start, duration: duration, file: "c\(start)") }

    @Test func consecutiveClipsJoinUpToTheLimitAndGapsSplit() {
        // 4 × 30 s contiguous, then a gap, then 2 more: 120 s fits one block; the gap starts another.
        let clips = [clip(0, 30), clip(30, 30), clip(60, 30), clip(90, 30), clip(120, 30), clip(160, 10), clip(170, 5)]
        let blocks = HearStage.speechBlocks(clips, maxSeconds: 120)
        #expect(blocks.map { $0.map(\.start) } == [[0, 30, 60, 90], [120], [160, 170]])
        #expect(HearStage.speechBlocks([], maxSeconds: 120).isEmpty)
        // A clip longer than the limit still gets a block of its own.
        #expect(HearStage.speechBlocks([clip(0, 200), clip(200, 5)], maxSeconds: 120).map(\.count) == [1, 1])
    }
}

@Suite struct GroundingGateTests {
    let evidence = Evidence(fileName: "deltas.mp4", probe: probe(duration: 20),
                            segments: [.init(start: 0, end: 5, text: "A delta forms where a slow river meets the sea."),
                                       .init(start: 5, end: 9, text: "Birds nest on the new land.")],
                            scenes: [])

    @Test func dropsEmptyAndInventedTextKeepsWhatWasSaid() {
        let gate = GroundingGate(evidence)
        #expect(gate.isGrounded("River deltas form where the sea meets a river"))
        #expect(!gate.isGrounded("c"))
        #expect(!gate.isGrounded("The in-studded winds are too light to say"))
        #expect(!gate.isGrounded("A delta forms where a river meets the sea. A delta forms where a river meets the sea."))
        let answer: JSONValue = ["title": "c", "one_line": "A delta forms where a river meets the sea.",
                                 "key_points": ["Birds nest on new land.", "Birds nest on new land.", "Volcanoes erupt nightly."],
                                 "chapters": [["start": 0, "title": "Deltas"], ["start": 5, "title": "Measured frame facts"]]]
        let (kept, cuts) = gate.filter(answer, schema: try! loadBuiltin("summarize").resultSchema)
        #expect(cuts.map(\.field) == ["chapters", "key_points", "title"])
        #expect(cuts.first { $0.field == "title" }?.whole == true && cuts.first { $0.field == "key_points" }?.whole == false)
        #expect(kept["title"] == nil && kept["one_line"] != nil)
        #expect(kept["key_points"] == ["Birds nest on new land."])
        #expect(kept["chapters"]?.arrayValue?.count == 1)
    }

    @Test func anUngroundedFieldIsReplacedExtractivelyAndSaysSo() async throws {
        let spec = try loadBuiltin("summarize")
        let engine = FakeEngine { _ in ["title": "c", "one_line": "c", "paragraph": "Winds stud the sky.", "key_points": [], "tags": [], "chapters": []] }
        let o = try await Summarizer(spec: spec, engine: engine).run(evidence, counter: EngineCallCounter())
        #expect(o.results["title"]?.stringValue?.lowercased().contains("delta") == true)
        #expect(o.provenance["results.title"] == "extractive" && o.provenance["results.paragraph"] == "extractive")
        #expect(o.warnings.contains { $0.contains("dropped the model's title") })
        // The lost fields were asked for once more, naming what was wrong; still unsupported, they fall back.
        #expect(engine.calls.count == 2 && engine.calls[1].purpose == "summarize again")
        #expect(engine.calls[1].parts.contains { if case .text(let t) = $0 { return t.contains("not in the evidence") }; return false })
    }
}
