import Foundation
import Engine
import Store
import Testing
@testable import Pipeline

/// Corrections and `recap export --format sft`, on a real run of a sample.
@Suite(.serialized) struct ExportTests {
    @Test func correctedOutputsBecomeChatExamplesWithTheirFramesAndAudio() async throws {
        let root = try tempDir("recap-export")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4"], into: input)
        let pipeline = root.appendingPathComponent("quick.yaml")
        try """
            name: quick
            version: 1
            stages: [probe, frames, audio, transcribe, write]
            frames: {strategy: scenes, max_frames: 6}
            audio: {enabled: true, model: base}
            prompts:
              reduce: {template: "{transcript}"}
            output:
              schema: {type: object, properties: {title: {type: string}}}
              files: [json]
            index: []
            """.write(to: pipeline, atomically: true, encoding: .utf8)
        let run = try await RecapProcess.run(["run", input.path, "--out", out.path, "--pipeline", pipeline.path, "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")

        let store = try JobStore(url: out.appendingPathComponent(".recap/store.sqlite"), options: .init(create: false))
        let job = try #require(try store.jobs(state: .succeeded).first)
        // Nothing corrected: nothing to export, and the command says what to do.
        let file = root.appendingPathComponent("reviewed.jsonl")
        let empty = try await RecapProcess.run(["export", "--format", "sft", file.path, "--out", out.path])
        #expect(empty.status == 0)
        #expect(empty.stderr.contains("recap serve --review"))

        try store.addCorrection(jobID: job.id, field: "title", value: "Rivers and their deltas", original: nil)
        try store.addCorrection(jobID: job.id, field: "title", value: "How rivers build deltas", original: "Rivers and their deltas")
        #expect(throws: CorrectionError.self) { try store.addCorrection(jobID: job.id, field: "../x", value: "y", original: nil) }
        #expect(throws: CorrectionError.self) { try store.addCorrection(jobID: 999_999, field: "title", value: "y", original: nil) }

        let r = try await RecapProcess.run(["export", "--format", "sft", file.path, "--out", out.path])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let example = try JSONValue.parse(String(lines[0]))
        guard case .array(let messages)? = example["messages"] else { Issue.record("no messages: \(lines[0])"); return }
        #expect(messages.compactMap { $0["role"]?.stringValue } == ["system", "user", "assistant"])
        // The answer is the corrected one (the latest correction wins); the model's output file is untouched.
        let answer = try JSONValue.parse(messages[2]["content"]?[0]?["text"]?.stringValue ?? "")
        #expect(answer["title"]?.stringValue == "How rivers build deltas")
        let original = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("narrated.recap.json")))
        #expect(original.results["title"]?.stringValue != "How rivers build deltas")

        // The user turn carries the frames and ≤30 s audio clips as files beside the JSONL, and the transcript.
        guard case .array(let parts)? = messages[1]["content"] else { Issue.record("no user parts"); return }
        let images = parts.compactMap { $0["image"]?.stringValue }, audios = parts.compactMap { $0["audio"]?.stringValue }
        #expect(images.count >= 2, "\(parts)")
        #expect(audios.count >= 1)
        for p in images + audios { #expect(!p.hasPrefix("/") && !p.contains("..")) }
        let jpeg = try Data(contentsOf: root.appendingPathComponent(images[0]))
        #expect(jpeg.prefix(2) == Data([0xFF, 0xD8]))
        let wav = try Data(contentsOf: root.appendingPathComponent(audios[0]))
        #expect(wav.prefix(4) == Data("RIFF".utf8))
        let rate = wav.subdata(in: 24..<28).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        #expect(UInt32(littleEndian: rate) == 16000)
        let thirtySeconds: Int = 30 * 16000 * 2
        #expect(wav.count <= thirtySeconds + 108)
        let text = parts.last?["text"]?.stringValue ?? ""
        #expect(text.lowercased().contains("delta"), "\(text)")
    }
}
