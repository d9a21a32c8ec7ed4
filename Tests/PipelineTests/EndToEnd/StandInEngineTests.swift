import Foundation
import Engine
import Store
import Testing
@testable import Pipeline

/// `recap run --engine openai --preset vllm` against a recording stand-in server: what reaches the engine on
/// the wire (audio as WAV clips, frames as JPEGs, the schema, the key), what the output says, and that the key
/// is never shown or stored, even when the server echoes it back in errors.
@Suite(.serialized) struct StandInEngineTests {
    static let key = "sk-recap-test-7f3a9c21e4"
    static let outputSchema = JSONSchemaValidator(schema: try! JSONValue.parse(Data(contentsOf: repoRoot.appendingPathComponent("schemas/recap-output.v1.json"))))

    func args(_ input: URL, _ out: URL, _ server: StandInServer, _ extra: [String] = []) -> [String] {
        ["run", input.path, "--out", out.path, "--json", "--engine", "openai", "--preset", "vllm",
         "--base-url", server.baseURL, "--retries", "0"] + extra
    }

    /// Every byte Recap left behind: outputs, the store, its work folder.
    func everythingUnder(_ dir: URL) -> Data {
        var all = Data()
        for case let u as URL in FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) ?? .init() {
            if let d = try? Data(contentsOf: u) { all += d }
        }
        return all
    }

    @Test func framesAndAudioReachTheEngineAndTheKeyNeverLeaks() async throws {
        let root = try tempDir("recap-wire")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "music.mp4"], into: input)

        let run = try await RecapProcess.run(args(input, out, server), env: ["RECAP_API_KEY": Self.key])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let summary = try #require(run.summary, "stdout: \(run.stdout)")
        #expect(summary["succeeded"]?.doubleValue == 2)

        // Audio: one request per clip, each a 16 kHz mono WAV of at most 30 s; together they cover the audio.
        let hear = try server.chats("recap_hear")
        var heardSeconds = 0.0
        for r in hear {
            let audio = contentParts(r.body, type: "input_audio")
            #expect(audio.count == 1)
            #expect(audio.first?["input_audio"]?["format"]?.stringValue == "wav")
            let wav = try #require(Data(base64Encoded: audio.first?["input_audio"]?["data"]?.stringValue ?? ""))
            let h = try #require(WAVHeader(wav), "not a WAV")
            #expect(h.sampleRate == 16_000 && h.channels == 1 && h.format == 1)
            #expect(h.seconds <= 30.001 && h.seconds > 0)
            heardSeconds += h.seconds
        }
        #expect(abs(heardSeconds - 40) < 0.5, "narrated (30 s) and music (10 s): the clips cover \(heardSeconds) s")
        #expect(hear.count == 2, "30 s + 10 s of audio, each file in ≤ 30 s clips: \(hear.count) hear requests")

        // Frames: JPEG data URIs, no larger than the pipeline's max_side (768), several per request.
        let see = try server.chats("recap_describe_frames")
        #expect(!see.isEmpty)
        for r in see {
            let images = contentParts(r.body, type: "image_url")
            #expect(!images.isEmpty && images.count <= 8)
            for i in images {
                let url = i["image_url"]?["url"]?.stringValue ?? ""
                #expect(url.hasPrefix("data:image/jpeg;base64,"))
                let jpeg = try #require(Data(base64Encoded: String(url.dropFirst("data:image/jpeg;base64,".count))))
                let size = try #require(jpegSize(jpeg), "not a JPEG")
                #expect(max(size.width, size.height) <= 768 && min(size.width, size.height) >= 16)
            }
        }

        // Every chat request asks for the schema and carries the key; the key appears nowhere else.
        let chats = try server.chats()
        // One summary per file, plus at most one re-ask each for fields the grounding gate removed whole.
        #expect((hear.count + see.count + 2...hear.count + see.count + 4).contains(chats.count), "hear, see, and one or two summary requests per file: \(chats.map { $0.body["response_format"]?["json_schema"]?["name"]?.stringValue ?? "?" })")
        for r in chats {
            #expect(r.body["response_format"]?["type"]?.stringValue == "json_schema")
            #expect(r.body["response_format"]?["json_schema"]?["schema"]?.objectValue != nil)
            #expect(r.headers["authorization"] == "Bearer \(Self.key)")
        }
        #expect(!run.stdout.contains(Self.key) && !run.stderr.contains(Self.key))
        #expect(everythingUnder(out).range(of: Data(Self.key.utf8)) == nil, "the key was written under --out")

        // The outputs say who made what, and validate.
        let narrated = try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("narrated.recap.json")))
        #expect(Self.outputSchema.violations(of: narrated).map(\.description) == [])
        #expect(try independentSchemaViolations([out.appendingPathComponent("narrated.recap.json"), out.appendingPathComponent("music.recap.json")]) == "")
        #expect(narrated["transcript"]?["source"]?.stringValue == "engine")
        #expect(narrated["transcript"]?["model"]?.stringValue == "gemma-3n-standin")
        #expect((narrated["transcript"]?["heard"]?.arrayValue ?? []).count == 1)
        #expect(narrated["provenance"]?["transcript"]?.stringValue == "model")
        #expect(narrated["engine"]?["models"]?["audio"]?.stringValue == "gemma-3n-standin")
        #expect(narrated["engine"]?["models"]?["speech"] == nil, "whisper was not used")
        let scenes = narrated["scenes"]?.arrayValue ?? []
        #expect(!scenes.isEmpty && scenes.allSatisfy { $0["description_source"]?.stringValue == "model" })
        #expect(scenes.allSatisfy { ($0["description"]?.stringValue ?? "").hasPrefix("A stand-in picture of") })

        // A rerun makes no request to the model.
        let again = try await RecapProcess.run(args(input, out, server), env: ["RECAP_API_KEY": Self.key])
        #expect(again.status == 0)
        #expect(again.summary?["unchanged"]?.doubleValue == 2)
        #expect(try server.chats().count == chats.count, "a rerun asked the engine again")
    }

    /// `scripts/eval.sh --standin` and `--base-url` judge the wire with eval/wire.py: it passes on what a run
    /// really sent, and fails when the outputs claim an engine transcript and descriptions no request carried.
    @Test func theEvalsWireCheckReadsTheStandInsLog() async throws {
        let root = try tempDir("recap-wire-eval")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "music.mp4"], into: input)
        let run = try await RecapProcess.run(args(input, out, server))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        func wire(_ log: URL) throws -> (Int32, String) {
            let p = Process(), pipe = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", repoRoot.appendingPathComponent("eval/wire.py").path, log.path, out.path, "--expect", "images,audio"]
            p.standardOutput = pipe
            try p.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let (ok, said) = try wire(server.log)
        #expect(ok == 0, "\(said)")
        #expect(said.contains("2 audio clips (40.0 s)") && said.contains("2 of 2 transcripts by the engine"), "\(said)")
        let empty = root.appendingPathComponent("nothing.jsonl")
        try Data().write(to: empty)
        let (failed, why) = try wire(empty)
        #expect(failed == 1)
        #expect(why.contains("FAILED: 2 transcripts say the engine heard them") && why.contains("no image part reached the engine"), "\(why)")
    }

    @Test func anEchoedPromptIsNotADescription() async throws {
        let root = try tempDir("recap-wire-echo")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(mode: "echo", folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["silent-video.mp4"], into: input)
        let run = try await RecapProcess.run(args(input, out, server))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let output = try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("silent-video.recap.json")))
        let scenes = output["scenes"]?.arrayValue ?? []
        #expect(!scenes.isEmpty)
        #expect(scenes.allSatisfy { $0["description_source"]?.stringValue == "measured" })
        let warnings = (output["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(warnings.contains { $0.contains("restated the prompt") }, "\(warnings)")
        // Asked once more, then reported: two requests per group of frames.
        let see = try server.chats("recap_describe_frames")
        #expect(see.count == 2 * Int((Double(scenes.count) / 8).rounded(.up)))
        #expect(output["engine"]?["models"]?["vision"] == nil, "no model description was kept")
    }

    @Test func serverErrorsFailTheJobWithoutTheKeyAndAFixedServerRedoesIt() async throws {
        let root = try tempDir("recap-wire-fail")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let failing = try StandInServer(mode: "fail-echo-headers", folder: root)
        let run = try await RecapProcess.run(args(input, out, failing), env: ["RECAP_API_KEY": Self.key])
        failing.stop()
        #expect(run.status == 2, "HTTP 500 on every request is a failure, not a success: \(run.stderr)")
        #expect(run.stderr.contains("HTTP 500") && run.stderr.contains("upstream failed"), "a short reason is kept: \(run.stderr)")
        #expect(!run.stderr.contains("request_headers"), "the raw error body is not printed: \(run.stderr)")
        #expect(!run.stdout.contains(Self.key) && !run.stderr.contains(Self.key))
        #expect(everythingUnder(out).range(of: Data(Self.key.utf8)) == nil, "the key reached the store or outputs")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("narrated.recap.json").path))
        let jobs = try await RecapProcess.run(["jobs", "list", "--out", out.path, "--json"])
        #expect(!jobs.stdout.contains(Self.key))

        // The server is fixed: the job is retried (not "unchanged") and completes.
        let fixed = try StandInServer(folder: root)
        defer { fixed.stop() }
        _ = try await RecapProcess.run(["jobs", "retry", "--failed", "--dead", "--out", out.path])
        let second = try await RecapProcess.run(args(input, out, fixed), env: ["RECAP_API_KEY": Self.key])
        #expect(second.summary?["succeeded"]?.doubleValue == 1, "stdout: \(second.stdout) stderr: \(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("narrated.recap.json").path))
    }

    @Test func summariesThatNeverComeDegradeTheJobAndTheNextRunRedoesOnlyThem() async throws {
        let root = try tempDir("recap-wire-degraded")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let json = out.appendingPathComponent("narrated.recap.json")
        let failing = try StandInServer(mode: "fail-summaries", folder: root)
        let run = try await RecapProcess.run(args(input, out, failing), env: ["RECAP_API_KEY": Self.key])
        failing.stop()
        // Not a success, not a silent one: exit 2, "degraded" in the summary line and on stderr with the reason.
        #expect(run.status == 2, "stderr: \(run.stderr)")
        #expect(run.summary?["succeeded"]?.doubleValue == 0 && run.summary?["degraded"]?.arrayValue?.count == 1, "\(run.stdout)")
        #expect(run.stderr.contains("recap: degraded: narrated.mp4") && run.stderr.contains("HTTP 500"), "stderr: \(run.stderr)")
        #expect(!run.stderr.contains("request_headers") && !run.stdout.contains(Self.key) && !run.stderr.contains(Self.key))
        #expect(everythingUnder(out).range(of: Data(Self.key.utf8)) == nil, "the key reached the store or outputs")
        // The person still gets outputs now, from what was heard and seen, and none of it is called the model's.
        let first = try JSONValue.parse(Data(contentsOf: json))
        #expect(Self.outputSchema.violations(of: first).isEmpty)
        // (The transcript and scene descriptions did come from the model: hearing and seeing worked.)
        let summaryFields = (first["provenance"]?.objectValue ?? [:]).filter { $0.key.hasPrefix("results.") && $0.key != "results.scenes" }
        #expect(summaryFields["results.title"] != nil && !summaryFields.values.contains { $0.stringValue?.hasPrefix("model") == true }, "\(summaryFields)")
        // The store says degraded, and keeps what need not be redone (the transcript) but not the summary.
        let store = try JobStore(url: out.appendingPathComponent(".recap/store.sqlite"), options: .init(create: false))
        let job = try #require(try store.jobs().first)
        #expect(job.state == .degraded && job.lastError?.contains("HTTP 500") == true)
        let kept = try store.checkpoints(jobID: job.id)
        #expect(kept[.transcribe] != nil && kept[.summarize] == nil && kept[.write] == nil, "\(kept.keys)")
        try store.close()

        // The server is fixed: a plain rerun (no `jobs retry`) asks for the summary again, and only for it.
        let fixed = try StandInServer(folder: root)
        defer { fixed.stop() }
        let second = try await RecapProcess.run(args(input, out, fixed), env: ["RECAP_API_KEY": Self.key])
        #expect(second.status == 0 && second.summary?["succeeded"]?.doubleValue == 1, "stdout: \(second.stdout) stderr: \(second.stderr)")
        #expect(try !fixed.chats("recap_summarize").isEmpty, "the summary was asked for again")
        #expect(try fixed.chats("recap_hear").isEmpty, "the transcript was not redone")
        let redone = try JSONValue.parse(Data(contentsOf: json))
        // (The stand-in's answers are placeholders the grounding gate cuts, so the fields stay extractive; what
        // changed is that the model answered, and the output no longer says it did not.)
        let said = { (v: JSONValue) in (v["warnings"]?.arrayValue ?? []).compactMap(\.stringValue).filter { $0.contains("no usable answer") } }
        #expect(!said(first).isEmpty && said(redone).isEmpty, "\(redone["warnings"] ?? .null)")
        // And the run after that has nothing to do.
        let third = try await RecapProcess.run(args(input, out, fixed), env: ["RECAP_API_KEY": Self.key])
        #expect(third.status == 0 && third.summary?["unchanged"]?.doubleValue == 1, "\(third.stdout)")
    }

    @Test func aRefusedKeyStopsTheRunAtOnceWithExitOne() async throws {
        let root = try tempDir("recap-wire-401")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(mode: "refuse-key", folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "music.mp4"], into: input)
        let run = try await RecapProcess.run(args(input, out, server), env: ["RECAP_API_KEY": Self.key])
        #expect(run.status == 1, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("API key was refused"))
        #expect(!run.stderr.contains(Self.key) && !run.stdout.contains(Self.key))
        #expect(try server.chats().isEmpty, "no file was tried once the key was refused")
    }

    @Test func aTricklingBodyIsCutOffAtTheTimeoutAndAHugeOneIsRefused() async throws {
        let root = try tempDir("recap-wire-slow")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in")
        try RecapProcess.inputs(["silent-video.mp4"], into: input)
        // One byte a second for two minutes: without a deadline on the body, the run would wait for all of it.
        let slow = try StandInServer(mode: "trickle", folder: root)
        let cut = try await RecapProcess.run(args(input, root.appendingPathComponent("out1"), slow, ["--timeout", "3"]))
        slow.stop()
        #expect(cut.status == 3, "stderr: \(cut.stderr)")
        #expect(cut.stderr.contains("within 3 s"), "stderr: \(cut.stderr)")

        let huge = try StandInServer(mode: "huge", folder: root)
        defer { huge.stop() }
        let big = try await RecapProcess.run(args(input, root.appendingPathComponent("out2"), huge))
        #expect(big.status == 2, "stderr: \(big.stderr)")
        #expect(big.stderr.contains("larger than 16 MB"), "stderr: \(big.stderr)")
    }

    @Test func ctrlCWhileTheEngineWorksGivesTheJobBackAndTheNextRunFinishesIt() async throws {
        let root = try tempDir("recap-wire-sigint")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let slow = try StandInServer(mode: "trickle", folder: root)
        let (p, stdout, stderr) = try RecapProcess.start(args(input, out, slow, ["--timeout", "300"]))
        // Wait until a request is in flight at the engine (the stand-in then answers one byte a second).
        var waited = 0
        while try slow.chats().isEmpty && waited < 600 { try await Task.sleep(for: .milliseconds(100)); waited += 1 }
        #expect(try !slow.chats().isEmpty, "no request reached the engine")
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = stdout.fileHandleForReading.readDataToEndOfFile()
        slow.stop()
        #expect(p.terminationStatus == 130, "stderr: \(err)")
        // The job was given back with its finished stages, not left running under a dead lease.
        let store = try JobStore(url: out.appendingPathComponent(".recap/store.sqlite"), options: .init(create: false))
        let jobs = try store.jobs()
        #expect(jobs.count == 1 && jobs.allSatisfy { $0.state == .queued }, "\(jobs.map(\.state))")
        #expect(try store.checkpoints(jobID: try #require(jobs.first).id)[.probe] != nil)
        try store.close()

        let ok = try StandInServer(folder: root)
        defer { ok.stop() }
        let again = try await RecapProcess.run(args(input, out, ok))
        #expect(again.status == 0 && again.summary?["succeeded"]?.doubleValue == 1, "stderr: \(again.stderr)")
    }

    @Test func sigtermWhileTheEngineWorksGivesTheJobBackLikeCtrlC() async throws {
        // What cron, systemd and `timeout` send. Same path as Ctrl-C: stop, give the job back, exit 130.
        let root = try tempDir("recap-wire-sigterm")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let slow = try StandInServer(mode: "trickle", folder: root)
        defer { slow.stop() }
        let (p, stdout, stderr) = try RecapProcess.start(args(input, out, slow, ["--timeout", "300"]))
        var waited = 0
        while try slow.chats().isEmpty && waited < 600 { try await Task.sleep(for: .milliseconds(100)); waited += 1 }
        #expect(try !slow.chats().isEmpty, "no request reached the engine")
        let (stopped, status, err) = try await RecapProcess.stop(p, stdout: stdout, stderr: stderr, with: SIGTERM)
        #expect(stopped, "recap run ignored SIGTERM for 60 s")
        #expect(status == 130, "stderr: \(err)")
        #expect(err.contains("stopping"), "stderr: \(err)")
        let store = try JobStore(url: out.appendingPathComponent(".recap/store.sqlite"), options: .init(create: false))
        let jobs = try store.jobs()
        #expect(jobs.count == 1 && jobs.allSatisfy { $0.state == .queued }, "given back, not left running: \(jobs.map(\.state))")
        try store.close()
    }

    @Test func twoRunsOnOneStoreDoEachFileOnce() async throws {
        let root = try tempDir("recap-wire-two")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        let names = ["narrated.mp4", "music.mp4", "audio-only.m4a", "portrait.mp4", "silent-video.mp4", "vfr.mp4"]
        try RecapProcess.inputs(names, into: input)
        let argv = args(input, out, server)
        async let first = RecapProcess.run(argv)
        async let second = RecapProcess.run(argv)
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "stderr: \(a.stderr) \(b.stderr)")
        let done = (a.summary?["succeeded"]?.doubleValue ?? 0) + (b.summary?["succeeded"]?.doubleValue ?? 0)
        #expect(done == 6, "each file is done by exactly one of the runs: \(a.stdout) \(b.stdout)")
        #expect(try server.chats("recap_summarize").count == 6, "one summary per file, not two")
        let outputs = (FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { $0.lastPathComponent.hasSuffix(".recap.json") }
        #expect(outputs.count == 6)
    }
}
