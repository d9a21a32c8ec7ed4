import Foundation
import Engine
import Media
import Testing
@testable import Pipeline

@Suite struct OutputPathTests {
    @Test(arguments: [
        "../../etc/passwd.mp4", "/etc/passwd.mp4", "a/../../../x.mp4", "..", ".hidden.mp4", "a/\u{0}b.mp4",
        "....//....//x.mp4", "dir/..\\..\\x.mp4", "\u{1B}[31mred.mp4", String(repeating: "n", count: 400) + ".mp4",
        "con/./../../x.mp4", "-rf.mp4", "a\nb.mp4",
    ])
    func hostileNamesStayInsideOut(name: String) throws {
        let out = try tempDir()
        let paths = OutputPaths(root: out)
        guard let url = try? paths.file(forRelativePath: name, suffix: ".recap.json") else { return }  // refusing is fine too
        let p = url.standardizedFileURL.path
        #expect(p.hasPrefix(out.standardizedFileURL.path + "/"))
        #expect(!url.lastPathComponent.hasPrefix("."))
        #expect(url.lastPathComponent.utf8.count <= 255)
        #expect(!p.contains("/../") && !p.contains("\u{0}") && !p.contains("\n"))
        try AtomicFile.write(Data("{}".utf8), to: url)
        #expect(FileManager.default.fileExists(atPath: url.path))
    }

    @Test func mirrorsTheInputTree() throws {
        let out = try tempDir()
        let u = try OutputPaths(root: out).file(forRelativePath: "talks/day 1/intro.mp4", suffix: ".srt")
        #expect(u.path == out.standardizedFileURL.path + "/talks/day 1/intro.srt")
    }

    @Test func refusesToWriteThroughASymlinkInsideOut() throws {
        let out = try tempDir(), elsewhere = try tempDir()
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("talks"), withDestinationURL: elsewhere)
        #expect(throws: OutputPaths.PathError.self) { try OutputPaths(root: out).file(forRelativePath: "talks/a.mp4", suffix: ".recap.json") }
    }

    @Test func atomicWriteLeavesNoTempAndSweepsDeadWriters() throws {
        let dir = try tempDir()
        let target = dir.appendingPathComponent("a.recap.json")
        try AtomicFile.write(Data("one".utf8), to: target)
        try AtomicFile.write(Data("two".utf8), to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "two")
        #expect(AtomicFile.leftovers(under: dir).isEmpty)
        // A temp file left by a writer that no longer exists (pid 2^22-1 is above pid_max's default) is swept.
        let stale = dir.appendingPathComponent(".a.recap.json.recap-tmp.4194303.17")
        try Data("partial".utf8).write(to: stale)
        #expect(AtomicFile.leftovers(under: dir).count == 1)
        #expect(AtomicFile.sweep(dir) == 1)
        #expect(AtomicFile.leftovers(under: dir).isEmpty)
    }
}

@Suite struct SubtitleTests {
    let segments: [RecapOutput.Segment] = [
        .init(start: 0.0, end: 2.5, text: "Hello and welcome."),
        .init(start: 3.25, end: 61.0, text: "Today: rivers --> seas"),
        .init(start: 2.0, end: 2.4, text: "out of order"),
        .init(start: 3661.5, end: 3662.0, text: "  "),
    ]

    @Test func srtAndVttParseBackOrderedAndFollowTheConventions() throws {
        let srt = Subtitles.srt(segments), vtt = Subtitles.vtt(segments)
        #expect(srt.hasPrefix("1\n00:00:00,000 --> 00:00:02,"))
        #expect(vtt.hasPrefix("WEBVTT\n\n00:00:00.000 --> 00:00:02."))
        for text in [srt, vtt] {
            let cues = try Subtitles.parse(text)
            // Every word once, in time order; the blank segment gives nothing; "-->" never reaches a cue.
            let texts: [String] = cues.map(\.text)
            let words: [String] = texts.joined(separator: " ").split(whereSeparator: \.isWhitespace).map(String.init)
            #expect(words == ["Hello", "and", "welcome.", "out", "of", "order", "Today:", "rivers", "→", "seas"])
            for (a, b) in zip(cues, cues.dropFirst()) { #expect(a.end <= b.start) }
            // A 58-second segment is cut into cues of at most 7 s.
            #expect(SubtitleCheck.violations(text) == [])
        }
    }

    @Test func wordTimesCutCuesAndLongLinesBreakAtPhrases() throws {
        let sentence = "The lighthouse of Alexandria was one of the seven wonders of the ancient world, and it stood for centuries."
        var t = 1.0
        let words = sentence.split(separator: " ").map { w -> RecapOutput.Word in
            defer { t += Double(w.count + 1) / 14 }
            return .init(start: t, end: t + Double(w.count) / 14, text: String(w))
        }
        let srt = Subtitles.srt([.init(start: 1, end: t, text: sentence, words: words)])
        #expect(SubtitleCheck.violations(srt) == [])
        let lines = try Subtitles.parse(srt).flatMap { $0.text.split(separator: "\n") }
        #expect(lines.allSatisfy { $0.count <= 42 }, "\(lines)")
        #expect(!lines.contains { $0.hasSuffix(" the") || $0.hasSuffix(" of") }, "\(lines)")
        #expect(try Subtitles.parse(srt).first?.start == 1.0)
    }

    @Test func pipelineLimitsChangeTheLayoutAndTheJobKey() throws {
        let spec = try PipelineLibrary.resolve("summarize")
        let narrow = spec.withSubtitles(maxLineChars: 20, maxCharsPerSecond: nil)
        #expect(narrow.subtitles.maxLineChars == 20 && narrow.canonicalContent != spec.canonicalContent)
        #expect(spec.withSubtitles(maxLineChars: nil, maxCharsPerSecond: nil).canonicalContent == spec.canonicalContent)
        let srt = Subtitles.srt([.init(start: 0, end: 6, text: "Rivers carry sand and mud down to the sea every single year.")], rules: narrow.subtitles)
        let lines = try Subtitles.parse(srt).flatMap { $0.text.split(separator: "\n") }
        #expect(lines.allSatisfy { $0.count <= 20 } && lines.count > 2, "\(lines)")
    }
}

@Suite struct SchemaTests {
    func sample() -> RecapOutput {
        RecapOutput(
            source: .init(path: "a/b.mp4", fingerprint: "fp", sizeBytes: 10, probe: probe(duration: 12)),
            pipeline: .init(name: "summarize", version: 1),
            engine: .init(backend: "fake", identity: "fake:1", models: [:], capabilities: ["text"]),
            transcript: nil, scenes: [scene(0, 0, 12)], extract: [], results: .object(["title": .string("t")]),
            grounding: .init(hasSpeech: false, hasOnScreenText: false, note: "nothing"),
            provenance: ["results.title": "model"], files: .init(json: "b.recap.json", srt: nil, vtt: nil, contactSheet: nil),
            timings: ["probe": 0.1], warnings: [], createdAt: "2026-11-29T12:00:00Z")
    }

    @Test func outputValidatesAgainstPublishedSchemaAndRoundTrips() throws {
        let validator = JSONSchemaValidator(schema: try JSONValue.parse(Data(contentsOf: repoRoot.appendingPathComponent("schemas/recap-output.v1.json"))))
        let data = try sample().encoded()
        let json = try JSONValue.parse(data)
        #expect(validator.violations(of: json).map(\.description) == [])
        #expect(json["schema_version"]?.stringValue == "1.0")
        #expect(json["transcript"] == .null)
        #expect(try RecapOutput.decode(data) == sample())
        // A transcript whose language was not detected still validates (explicit null).
        var o = sample()
        o.transcript = .init(language: nil, model: "whisper-base", segments: [])
        #expect(validator.violations(of: try JSONValue.parse(o.encoded())).map(\.description) == [])
    }

    @Test func validatorCatchesViolations() throws {
        let validator = JSONSchemaValidator(schema: try JSONValue.parse(Data(contentsOf: repoRoot.appendingPathComponent("schemas/recap-output.v1.json"))))
        var json = try JSONValue.parse(sample().encoded()).objectValue!
        json["schema_version"] = .string("2.0")
        json.removeValue(forKey: "scenes")
        json["extra"] = .bool(true)
        let errors = validator.violations(of: .object(json)).map(\.description)
        #expect(errors.contains { $0.contains("schema_version") })
        #expect(errors.contains { $0.contains("\"scenes\"") })
        #expect(errors.contains { $0.contains("\"extra\"") })
    }
}
