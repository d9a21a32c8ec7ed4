import Engine
import Foundation
import Models
import Store
import Testing
import ThrowawayPostgres
@testable import Pipeline

/// `--store postgres://…`: the jobs in a PostgreSQL database that workers on many hosts share (a throwaway
/// cluster this test starts), against a stand-in engine. The same CLI, the same semantics as SQLite.
@Suite(.serialized) struct SharedStoreTests {
    func engine(_ server: StandInServer) -> [String] { server.engineArguments }
    func outputs(_ out: URL) -> [String] { RecapProcess.outputs(out) }

    @Test func workersOnAPostgresStoreDoEachFileOnceAndStatusListsThem() async throws {
        let database = try TestCluster.shared.get().makeDatabase()
        let root = try tempDir("recap-pg-workers")
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try StandInServer(folder: root)
        defer { server.stop() }
        let input = root.appendingPathComponent("in"), out = root.appendingPathComponent("out")
        try RecapProcess.inputs(["narrated.mp4", "music.mp4", "audio-only.m4a"], into: input)
        // Each host's stat cache and run log: in its own cache folder, never in the (shared) output folder.
        // Models from the real cache (`make test` installs them): the embedding model makes search vectors.
        let models = RecapPaths.fromEnvironment().models.path
        let env = ["RECAP_CACHE": root.appendingPathComponent("cache").path, "RECAP_MODELS": models]
        let store = ["--store", database]

        let enq = try await RecapProcess.run(["run", input.path, "--enqueue-only", "--root", "media=\(input.path)", "--out", out.path, "--json"]
            + store + engine(server), env: env)
        #expect(enq.status == 0, "stderr: \(enq.stderr)")
        #expect(enq.summary?["enqueued"]?.doubleValue == 3 && enq.summary?["pending"]?.doubleValue == 3, "\(enq.stdout)")
        #expect(enq.summary?["store"]?.stringValue?.hasPrefix("postgres://") == true, "\(enq.stdout)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".recap/store.sqlite").path))

        let mount = root.appendingPathComponent("mnt")
        try FileManager.default.copyItem(at: input, to: mount)
        let worker = ["worker", "--root", "media=\(mount.path)", "--out", out.path, "--until-idle", "--json", "--poll-seconds", "0.2"]
            + store + engine(server)
        async let first = RecapProcess.run(worker, env: ["RECAP_CACHE": root.appendingPathComponent("cache-a").path])
        async let second = RecapProcess.run(worker, env: ["RECAP_CACHE": root.appendingPathComponent("cache-b").path])
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "stderr: \(a.stderr) \(b.stderr)")
        let done = (a.summary?["succeeded"]?.doubleValue ?? 0) + (b.summary?["succeeded"]?.doubleValue ?? 0)
        #expect(done == 3, "each file is done by exactly one worker: \(a.stdout) \(b.stdout)")
        #expect(outputs(out) == ["audio-only.recap.json", "music.recap.json", "narrated.recap.json"])
        // One summary request per file with something to summarize, never two (the stand-in logs every request).
        let summaries = try server.chats("recap_summarize")
        #expect(Set(summaries.map { String(decoding: $0.body.data(), as: UTF8.self) }).count == summaries.count, "a summary was asked twice")

        let status = try await RecapProcess.run(["status", "--json"] + store, env: env)
        #expect(status.status == 0, "stderr: \(status.stderr)")
        #expect(status.summary?["counts"]?["succeeded"]?.doubleValue == 3, "\(status.stdout)")
        let workers = try #require(status.summary?["workers"]?.arrayValue)
        #expect(workers.count == 2 && workers.compactMap { $0["jobsDone"]?.doubleValue }.reduce(0, +) == 3, "\(status.stdout)")
        #expect((status.summary?["engineCalls"]?.doubleValue ?? 0) >= Double(summaries.count), "engine calls are counted in the shared store")
        let list = try await RecapProcess.run(["jobs", "list"] + store, env: env)
        #expect(list.status == 0 && list.stdout.contains("succeeded"), "\(list.stdout) \(list.stderr)")

        // The next night's enqueue makes nothing new, and embeds what the workers indexed (they make no vectors)
        // into the shared store, once; a plain run then finds everything done and nothing left to embed.
        let again = try await RecapProcess.run(["run", input.path, "--enqueue-only", "--root", "media=\(input.path)", "--out", out.path, "--json"]
            + store + engine(server), env: env)
        #expect(again.status == 0 && again.summary?["enqueued"]?.doubleValue == 0 && again.summary?["pending"]?.doubleValue == 0, "\(again.stdout)")
        #expect((again.summary?["search_vectors"]?.doubleValue ?? 0) > 0, "\(again.stdout)")
        #expect(again.summary?["search_vectors_problem"] == nil || again.summary?["search_vectors_problem"] == .null, "\(again.stdout)")
        let third = try await RecapProcess.run(["run", input.path, "--root", "media=\(input.path)", "--out", out.path, "--json"]
            + store + engine(server), env: env)
        #expect(third.status == 0 && third.summary?["unchanged"]?.doubleValue == 3, "\(third.stdout)")
        #expect(third.summary?["search_vectors"]?.doubleValue == 0, "nothing left to embed: \(third.stdout)")

        // `recap search` reads the shared store, by words. The stand-in engine's transcripts are "stand-in words
        // for N seconds"; "delta" is only in the narrated clip, in its on-screen text ("RIVER DELTAS") and its
        // summary's title. The output is checked first, so a miss below is the search's.
        let narrated = try RecapOutput.decode(Data(contentsOf: out.appendingPathComponent("narrated.recap.json")))
        let said = narrated.transcript?.text ?? "", summary = narrated.results.jsonString().lowercased()
        #expect(said.contains("seconds") && summary.contains("deltas"), "transcript: \(said); summary: \(summary)")
        let search = try await RecapProcess.run(["search", "delta", "--json"] + store, env: env)
        #expect(search.status == 0 && !search.stderr.contains("words only"), "stderr: \(search.stderr)")
        let hits = try JSONValue.parse(search.stdout).arrayValue ?? []
        let byWords = hits.filter { $0["wordRank"]?.doubleValue != nil }
        #expect(!byWords.isEmpty && byWords.allSatisfy { ($0["path"]?.stringValue ?? "").hasSuffix("/narrated.mp4") }, "\(search.stdout)")
        #expect(byWords.contains { $0["kind"]?.stringValue == "summary" }, "\(search.stdout)")
        // And by meaning, from the vectors `recap run` put in the shared store: the on-screen "RIVER DELTAS" is
        // found both ways, so it ranks first.
        #expect(hits.contains { $0["similarity"]?.doubleValue != nil }, "no meaning match: \(search.stdout)")
        #expect(hits.first?["wordRank"]?.doubleValue != nil && hits.first?["meaningRank"]?.doubleValue != nil, "\(search.stdout)")
        // Stems, as on SQLite: "delta" finds "DELTAS", marked in the snippet; filters hold for meaning matches too.
        let ocr = try await RecapProcess.run(["search", "delta", "--kind", "ocr", "--json"] + store, env: env)
        let ocrHits = try JSONValue.parse(ocr.stdout).arrayValue ?? []
        #expect(!ocrHits.isEmpty && ocrHits.allSatisfy { $0["kind"]?.stringValue == "ocr" }, "\(ocr.stdout) \(ocr.stderr)")
        #expect(ocrHits.first?["start"]?.doubleValue != nil && ocrHits.first?["snippet"]?.stringValue == "RIVER [DELTAS]",
                "\(ocr.stdout) \(ocr.stderr)")

        // The store from $RECAP_STORE, all words must match, --words-only (no notice), and the plain listing.
        let seconds = try await RecapProcess.run(["search", "words", "seconds", "--words-only", "--kind", "transcript", "--limit", "50"],
                                                 env: env.merging(["RECAP_STORE": database]) { $1 })
        #expect(seconds.status == 0 && !seconds.stderr.contains("words only"), "stderr: \(seconds.stderr)")
        let lines = seconds.stdout.split(separator: "\n")
        let files = Set(lines.map { (String($0).components(separatedBy: " @ ")[0] as NSString).lastPathComponent })
        #expect(files.isSuperset(of: ["narrated.mp4", "audio-only.m4a"]), "\(seconds.stdout)")
        #expect(lines.allSatisfy { $0.contains("[transcript; words]") && $0.contains("[words]") && $0.contains("[seconds]") }, "\(seconds.stdout)")
        let none = try await RecapProcess.run(["search", "delta", "sourdough", "--words-only"] + store, env: env)
        #expect(none.status == 0 && none.stdout.isEmpty && none.stderr.contains("no matches for \"delta sourdough\" in postgres://"),
                "\(none.stderr)")

        // Commands that read a whole SQLite index say so instead of failing on a path that is a URL.
        let export = try await RecapProcess.run(["export", root.appendingPathComponent("sft.jsonl").path] + store, env: env)
        #expect(export.status == 1 && export.stderr.contains("does not read it yet"), "\(export.stderr)")
        let serve = try await RecapProcess.run(["serve", "--out", out.path, "--port", "0"] + store, env: env)
        #expect(serve.status == 1 && serve.stderr.contains("does not read it yet"), "\(serve.stderr)")
    }
}
