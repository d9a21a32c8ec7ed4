import Foundation
import Engine
import Media
import Store
import Testing
@testable import Pipeline

/// End to end with the real local engine (whisper.cpp, llama-server + SmolLM2, Tesseract, FFmpeg, SQLite).
/// One shared run over a small subset of samples/ backs several assertions, to keep the suite short.
@Suite(.serialized) struct EndToEndTests {
    static let schema = JSONSchemaValidator(schema: try! JSONValue.parse(Data(contentsOf: repoRoot.appendingPathComponent("schemas/recap-output.v1.json"))))

    func outputs(_ out: URL) -> [URL] {
        (FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { $0.lastPathComponent.hasSuffix(".recap.json") }
    }

    func totalEngineCalls(_ store: URL) throws -> Int {
        try JobStore(url: store, options: .init(create: false)).totalEngineCalls()
    }

    @Test func samplesEndToEndThenIncrementalReruns() async throws {
        let root = try tempDir("recap-e2e")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "music.mp4", "silent-video.mp4"], into: input.appendingPathComponent("talks"))
        let store = out.appendingPathComponent(".recap/store.sqlite")

        // First run: everything is new.
        let first = try await RecapProcess.run(["run", input.path, "--out", out.path, "--json"])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let s1 = try #require(first.summary, "stdout was not JSON: \(first.stdout)")
        #expect(s1["succeeded"]?.doubleValue == 3)
        #expect((s1["engine_calls"]?.doubleValue ?? 0) >= 1)

        // Every output validates against the published schema and mirrors the input tree.
        let files = outputs(out)
        #expect(Set(files.map { $0.lastPathComponent }) == ["narrated.recap.json", "music.recap.json", "silent-video.recap.json"])
        for f in files {
            #expect(f.deletingLastPathComponent().lastPathComponent == "talks")
            let json = try JSONValue.parse(Data(contentsOf: f))
            #expect(Self.schema.violations(of: json).map(\.description) == [], "\(f.lastPathComponent)")
            let spec = try loadBuiltin("summarize")
            #expect(JSONSchemaValidator(schema: spec.resultSchema).violations(of: json["results"] ?? .null).map(\.description) == [], "\(f.lastPathComponent)")
        }
        #expect(try independentSchemaViolations(files) == "")
        #expect(AtomicFile.leftovers(under: out).isEmpty)

        // The narrated clip: its transcript and its summary carry words of the script.
        let narrated = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("talks/narrated.recap.json")))
        let said = (narrated.transcript?.text ?? "").lowercased()
        for w in ["delta", "river", "sea", "water"] { #expect(said.contains(w), "transcript lacks \(w): \(said)") }
        let summaryText = narrated.results.jsonString().lowercased() + narrated.extract.map(\.text).joined(separator: " ").lowercased()
        #expect(["delta", "river", "sea"].filter { summaryText.contains($0) }.count >= 2, "summary: \(summaryText)")
        #expect(narrated.grounding.hasSpeech)
        #expect(narrated.scenes.contains { $0.ocrText.uppercased().contains("RIVER") || $0.ocrText.uppercased().contains("DELTA") })
        // The sample's scenes change by hard cuts, and the output says so (the first scene has no transition).
        #expect(narrated.scenes.first?.transition == nil)
        #expect(narrated.scenes.filter { $0.transition == "cut" }.count >= 2, "\(narrated.scenes.map { ($0.start, $0.transition) })")

        // Subtitles parse, and every cue follows the conventions (line length, lines, reading speed, duration, gaps).
        for ext in ["srt", "vtt"] {
            let text = try String(contentsOf: out.appendingPathComponent("talks/narrated.\(ext)"), encoding: .utf8)
            let cues = try Subtitles.parse(text)
            #expect(!cues.isEmpty)
            #expect(SubtitleCheck.violations(text) == [], "narrated.\(ext)")
        }
        // Whisper's words with their own times, and the timeline of what the audio holds.
        let words = narrated.transcript?.segments.flatMap { $0.words ?? [] } ?? []
        #expect(words.count >= 40, "\(words.count) words")
        #expect(narrated.transcript?.timeline?.contains { $0.kind == "speech" } == true)
        #expect(narrated.transcript?.languageProbability ?? 0 > 0.5)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("talks/narrated.contact.jpg").path))

        // No speech and no on-screen text: the output says so instead of inventing a story.
        let music = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("talks/music.recap.json")))
        #expect(music.transcript?.segments.isEmpty ?? true)
        #expect(music.transcript?.timeline?.contains { $0.kind == "speech" } != true, "\(String(describing: music.transcript?.timeline))")
        #expect(!music.grounding.hasSpeech)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("talks/music.srt").path))
        let silent = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("talks/silent-video.recap.json")))
        #expect(silent.transcript == nil)
        #expect(silent.grounding.note.contains("No speech"))

        // Search finds the spoken words with file and time.
        let search = try await RecapProcess.run(["search", "delta", "--out", out.path, "--json"])
        #expect(search.status == 0)
        let hits = try JSONValue.parse(search.stdout).arrayValue ?? []
        #expect(hits.contains { ($0["path"]?.stringValue ?? "").hasSuffix("narrated.mp4") && $0["start"]?.doubleValue != nil })

        // Second run: nothing to do, no engine call.
        let calls1 = try totalEngineCalls(store)
        let second = try await RecapProcess.run(["run", input.path, "--out", out.path, "--json"])
        #expect(second.status == 0)
        #expect(second.summary?["engine_calls"]?.doubleValue == 0)
        #expect(second.summary?["unchanged"]?.doubleValue == 3)
        #expect(try totalEngineCalls(store) == calls1)

        // Touched but unchanged: skipped. Changed: redone.
        let narratedIn = input.appendingPathComponent("talks/narrated.mp4")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: narratedIn.path)
        let musicIn = input.appendingPathComponent("talks/music.mp4")
        try FileManager.default.removeItem(at: musicIn)
        try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("samples/portrait.mp4"), to: musicIn)
        let before = try Data(contentsOf: out.appendingPathComponent("talks/music.recap.json"))
        let third = try await RecapProcess.run(["run", input.path, "--out", out.path, "--json"])
        #expect(third.status == 0, "stderr: \(third.stderr)")
        #expect(third.summary?["unchanged"]?.doubleValue == 2)
        #expect(third.summary?["succeeded"]?.doubleValue == 1)
        let after = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("talks/music.recap.json")))
        #expect(try Data(contentsOf: out.appendingPathComponent("talks/music.recap.json")) != before)
        #expect(after.source.probe.height ?? 0 > after.source.probe.width ?? 0)  // now the upright portrait clip
        #expect(outputs(out).count == 3)
    }

    @Test func badFilesAreReportedAndTheRestSucceed() async throws {
        let root = try tempDir("recap-e2e-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["silent-video.mp4", "audio-only.m4a"], into: input)
        try Data().write(to: input.appendingPathComponent("empty.mp4"))
        try Data((0..<65536).map { _ in UInt8.random(in: 0...255) }).write(to: input.appendingPathComponent("noise.mp4"))
        let whole = try Data(contentsOf: repoRoot.appendingPathComponent("samples/narrated.mp4"))
        try whole.prefix(whole.count / 3).write(to: input.appendingPathComponent("truncated.mp4"))
        try Data("this is not a video\n".utf8).write(to: input.appendingPathComponent("notes.mp4"))

        let r = try await RecapProcess.run(["run", input.path, "--out", out.path, "--json"])
        #expect(r.status == 2, "stderr: \(r.stderr)")
        let s = try #require(r.summary)
        #expect(s["succeeded"]?.doubleValue == 2)
        let failures = s["failures"]?.arrayValue ?? []
        #expect(Set(failures.compactMap { $0["path"]?.stringValue }) == ["empty.mp4", "noise.mp4", "truncated.mp4", "notes.mp4"])
        for f in failures {
            let reason = f["reason"]?.stringValue ?? ""
            #expect(reason.count > 10, "no reason given for \(f)")
        }
        #expect(r.stderr.contains("empty.mp4") && r.stderr.contains("notes.mp4"))
        #expect(Set(outputs(out).map(\.lastPathComponent)) == ["silent-video.recap.json", "audio-only.recap.json"])
    }

    @Test func killedRunResumesWithoutRedoingStages() async throws {
        let root = try tempDir("recap-e2e-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        let names = ["narrated.mp4", "vfr.mp4", "portrait.mp4", "audio-only.m4a"]
        try RecapProcess.inputs(names, into: input)
        let storeURL = out.appendingPathComponent(".recap/store.sqlite")
        let lease = "4"

        // Kill -9 once some job has finished and another has checkpointed stages but not finished: the kill
        // must land inside a job, or the test would only check jobs that were already done.
        let (p, _, _) = try RecapProcess.start(["run", input.path, "--out", out.path, "--lease-seconds", lease])
        let deadline = Date().addingTimeInterval(300)
        var unfinished: Set<Int64> = []
        while Date() < deadline && p.isRunning {
            try await Task.sleep(nanoseconds: 100_000_000)
            guard FileManager.default.fileExists(atPath: storeURL.path),
                  let store = try? JobStore(url: storeURL, options: .init(create: false)) else { continue }
            let done = (try? store.counts()[.succeeded]) ?? 0
            let partial = ((try? store.jobs(state: .running)) ?? []).filter { ((try? store.checkpoints(jobID: $0.id).count) ?? 0) >= 2 }
            if done >= 1 && !partial.isEmpty {
                kill(p.processIdentifier, SIGKILL)
                unfinished = Set(partial.map(\.id))
                break
            }
        }
        if p.isRunning && unfinished.isEmpty { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try #require(!unfinished.isEmpty, "the run was never seen with a job done and another part-way; nothing was killed mid-job")

        let store = try JobStore(url: storeURL, options: .init(create: false))
        var before: [Int64: ([Store.Stage: Date], [Store.Stage: Int])] = [:]
        for job in try store.jobs() {
            before[job.id] = (try store.checkpoints(jobID: job.id).mapValues(\.finishedAt), try store.engineCalls(jobID: job.id))
        }
        // The job killed part-way is still marked running under the dead run's lease, with its stages kept.
        for id in unfinished {
            #expect(try store.job(id)?.state == .running)
            #expect((before[id]?.0.count ?? 0) >= 2)
        }

        // No wait for the lease: the killed run was a process of this host, and it is gone, so the rerun takes
        // its jobs over at once and says so.
        let r = try await RecapProcess.run(["run", input.path, "--out", out.path, "--json", "--lease-seconds", lease])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let resumed = r.summary?["resumed"]?.arrayValue ?? []
        #expect(resumed.count >= unfinished.count, "\(r.stdout)")
        #expect(resumed.allSatisfy { ($0["reason"]?.stringValue ?? "").contains("a run that stopped at") }, "\(resumed)")
        #expect(r.stderr.contains("recap: resumed: "), "stderr: \(r.stderr)")
        for id in unfinished { #expect(try store.job(id)?.state == .succeeded) }

        // Every file has exactly one output; no temp files remain.
        let outs = outputs(out).map(\.lastPathComponent).sorted()
        #expect(outs == names.map { ($0 as NSString).deletingPathExtension + ".recap.json" }.sorted())
        #expect(AtomicFile.leftovers(under: out).isEmpty)
        // No stage checkpointed before the kill ran again: same finish time, same engine calls.
        for (id, (stages, calls)) in before {
            let now = try store.checkpoints(jobID: id)
            let callsNow = try store.engineCalls(jobID: id)
            for (stage, finished) in stages {
                #expect(now[stage]?.finishedAt == finished, "job \(id) stage \(stage) was redone")
                #expect(callsNow[stage] ?? 0 == calls[stage] ?? 0, "job \(id) stage \(stage) called the engine again")
            }
        }
        #expect(try store.jobs().allSatisfy { $0.state == .succeeded })
    }
}
