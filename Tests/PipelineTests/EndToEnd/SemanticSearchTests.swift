import Foundation
import Engine
import Testing
@testable import Pipeline

/// Search by meaning, end to end: talks spoken by espeak-ng, heard by whisper.cpp, indexed by `recap run`,
/// embedded by all-MiniLM-L6-v2 on a real llama-server, and found by `recap search` with queries that share
/// no content word with the talk they must find.
@Suite(.serialized) struct SemanticSearchTests {
    struct Talk {
        var name: String
        var script: String
        var query: String
    }

    static let talks = [
        Talk(name: "pharos",
             script: "The Pharos of Alexandria was a tall tower with a fire at its top that guided ships into the harbor. Tremors damaged it many times, and it finally collapsed in the fourteenth century.",
             query: "an ancient wonder destroyed by earthquakes"),
        Talk(name: "sourdough",
             script: "To make sourdough, feed the starter with flour and water, let the dough rise overnight in a cool kitchen, and bake it in a very hot oven until the crust is dark.",
             query: "baking homemade loaves of bread"),
        Talk(name: "leaves",
             script: "Plants capture sunlight with the chlorophyll in their leaves. They turn carbon dioxide and water into sugar, and they release oxygen into the air.",
             query: "how greenery produces food from the sun"),
        Talk(name: "marathon",
             script: "Runners preparing for a marathon should add distance slowly, week after week, and rest one full day every week so that their knees and ankles are not injured.",
             query: "training for a long race"),
        Talk(name: "volcano",
             script: "When the volcano erupted, lava and ash poured down the mountain. The villages nearby were evacuated before the smoke reached them.",
             query: "townsfolk fleeing molten rock"),
    ]

    /// Words a query may share with a talk without giving the answer away.
    static let functionWords: Set<String> = ["a", "an", "the", "of", "for", "from", "how", "by", "to", "and", "in", "on"]

    @Test func queriesWithNoSharedContentWordFindTheirTalkFirst() async throws {
        let root = try tempDir("recap-semantic")
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("talks"), out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        for t in Self.talks {
            // The test set is only fair if the query's content words are nowhere in the script.
            let said = Set(Self.words(t.script))
            let shared = Self.words(t.query).filter { !Self.functionWords.contains($0) && said.contains($0) }
            #expect(shared.isEmpty, "\(t.name): the query shares \(shared) with the script")
            try Self.speak(t.script, to: input.appendingPathComponent("\(t.name).mp4"), work: root)
        }
        // Transcripts only: no language model is needed to index speech.
        let pipeline = root.appendingPathComponent("talks.yaml")
        try """
            name: talks
            version: 1
            stages: [probe, audio, transcribe, write]
            audio: {enabled: true, model: base}
            prompts:
              reduce: {template: "{transcript}"}
            output:
              schema: {type: object, properties: {transcript: {type: string}}}
              files: [json]
            index: [transcript]
            """.write(to: pipeline, atomically: true, encoding: .utf8)

        let run = try await RecapProcess.run(["run", input.path, "--out", out.path, "--pipeline", pipeline.path, "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let summary = try #require(run.summary, "stdout was not JSON: \(run.stdout)")
        #expect((summary["search_vectors"]?.doubleValue ?? 0) >= Double(Self.talks.count), "\(run.stdout)")
        #expect(summary["search_vectors_problem"] == nil || summary["search_vectors_problem"] == .null)

        for t in Self.talks {
            let hits = try await search(t.query, out: out)
            let first = try #require(hits.first, "\(t.name): no hit for \"\(t.query)\"")
            #expect(first["path"]?.stringValue?.hasSuffix("/\(t.name).mp4") == true,
                    "\"\(t.query)\" ranked \(hits.compactMap { $0["path"]?.stringValue }.map { URL(fileURLWithPath: $0).lastPathComponent }) first")
            #expect(first["similarity"]?.doubleValue ?? 0 >= SearchDefaultsProbe.floor)
            #expect(first["start"]?.doubleValue != nil, "a hit points at a moment")
            // Words alone cannot find it: that is what this search adds.
            let words = try await search(t.query, out: out, extra: ["--words-only"])
            #expect(words.first?["path"]?.stringValue?.hasSuffix("/\(t.name).mp4") != true)
        }

        // A second run embeds nothing: the texts and the model are unchanged.
        let again = try await RecapProcess.run(["run", input.path, "--out", out.path, "--pipeline", pipeline.path, "--json"])
        #expect(again.summary?["search_vectors"]?.doubleValue == 0, "\(again.stdout)")
    }

    func search(_ query: String, out: URL, extra: [String] = []) async throws -> [JSONValue] {
        let r = try await RecapProcess.run(["search", query, "--out", out.path, "--json", "--limit", "5"] + extra)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        guard case .array(let hits)? = try? JSONValue.parse(r.stdout) else {
            Issue.record("search output was not a JSON array: \(r.stdout) \(r.stderr)")
            return []
        }
        return hits
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init)
    }

    /// espeak-ng's voice over a plain picture, as an MP4.
    static func speak(_ text: String, to file: URL, work: URL) throws {
        let wav = work.appendingPathComponent(file.deletingPathExtension().lastPathComponent + ".wav")
        try tool("espeak-ng", ["-v", "en-us", "-s", "150", "-w", wav.path, text])
        try tool("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=navy:s=320x240:r=10", "-i", wav.path,
                            "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", file.path])
    }

    static func tool(_ name: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [name] + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw RecapProcess.Missing(what: "\(name) to succeed (status \(p.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
        }
    }
}

/// The CLI's default floor, restated: the test fails if it is changed without looking at this set again.
enum SearchDefaultsProbe { static let floor = 0.3 }
