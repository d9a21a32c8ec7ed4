import Foundation
import Testing
@testable import Store

/// FTS5 search over what the pipeline indexes.
@Suite struct SearchTests {
    @Test func hitsCarryFileTimeKindAndSnippetAndReplacingIsIdempotent() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let lecture = try store.enqueue(request(1)).jobID
        let party = try store.enqueue(request(2)).jobID
        let entries = [
            SearchEntry(kind: .transcript, start: 12.5, end: 17, text: "Today we look at how plants use photosynthesis to make sugar."),
            SearchEntry(kind: .scene, start: 30, end: 45, text: "A chalkboard with a diagram of a leaf."),
            SearchEntry(kind: .ocr, start: 31, text: "CHLOROPHYLL"),
            SearchEntry(kind: .summary, text: "An introductory biology lecture about photosynthesis."),
        ]
        for _ in 0..<3 { try store.replaceSearchEntries(jobID: lecture, path: "/m/lecture.mp4", entries: entries) }
        try store.replaceSearchEntries(jobID: party, path: "/m/party.mp4", entries: [
            SearchEntry(kind: .transcript, start: 3, end: 5, text: "Happy birthday! Cake for everyone."),
        ])

        let hits = try store.search("photosynthesis")
        #expect(hits.count == 2)  // one transcript segment + the summary, not 3 copies each
        let segment = try #require(hits.first { $0.kind == .transcript })
        #expect(segment.path == "/m/lecture.mp4")
        #expect(segment.jobID == lecture)
        #expect(segment.start == 12.5)
        #expect(segment.end == 17)
        #expect(segment.snippet.contains("[photosynthesis]"))

        #expect(try store.search("plant").first?.start == 12.5)  // stemming: plants ~ plant
        #expect(try store.search("chloro*").first?.kind == .ocr)
        #expect(try store.search("leaf diagram").first?.start == 30)
        #expect(try store.search("birthday").map(\.path) == ["/m/party.mp4"])
        #expect(try store.search("photosynthesis", kinds: [.summary]).map(\.kind) == [.summary])

        // Replacing one job's entries leaves the other job's alone.
        try store.replaceSearchEntries(jobID: lecture, path: "/m/lecture.mp4", entries: [SearchEntry(kind: .summary, text: "Replaced.")])
        #expect(try store.search("photosynthesis").isEmpty)
        #expect(try store.search("cake").count == 1)
    }

    @Test func userQueriesWithOperatorsNeverFail() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let id = try store.enqueue(request(1)).jobID
        try store.replaceSearchEntries(jobID: id, path: "/a.mp4", entries: [SearchEntry(kind: .transcript, start: 1, text: "NEAR the end, AND then OR maybe not")])
        for query in ["\"unbalanced", "AND", "(near", "a:b", "NOT", "*", "", "   ", "end)"] {
            _ = try store.search(query)
        }
        #expect(try store.search("AND").count == 1)  // an operator word is just a word
        #expect(try store.search("").isEmpty)
    }
}

@Suite struct StoreLocationTests {
    @Test func flagBeatsEnvironmentBeatsOutputFolder() {
        let env = ["RECAP_STORE": "/var/lib/recap/store.sqlite"]
        #expect(StoreLocation.resolve(store: "my.sqlite", environment: env, currentDirectory: "/home/u").path == "/home/u/my.sqlite")
        #expect(StoreLocation.resolve(store: nil, environment: env, currentDirectory: "/home/u").path == "/var/lib/recap/store.sqlite")
        #expect(StoreLocation.resolve(outputFolder: "/srv/out", environment: [:], currentDirectory: "/home/u").path
            == "/srv/out/.recap/store.sqlite")
        #expect(StoreLocation.resolve(environment: [:], currentDirectory: "/home/u").path == "/home/u/recap-out/.recap/store.sqlite")
        #expect(StoreLocation.resolve(outputFolder: "out/../x", environment: ["RECAP_STORE": ""], currentDirectory: "/c").path
            == "/c/x/.recap/store.sqlite")
    }
}

@Suite struct FingerprintTests {
    @Test func sha256MatchesTheStandardVectors() {
        func digest(_ s: String) -> String {
            var h = SHA256()
            h.update(Array(s.utf8))
            return SHA256.hex(h.finalize())
        }
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        for _ in 0..<1000 { million.update([UInt8](repeating: 0x61, count: 1000)) }  // fed in odd-sized pieces
        #expect(SHA256.hex(million.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func contentDecidesTheFingerprintNotThePath() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let big = (0..<(1_000_000)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        let a = dir.file("a.mp4"), b = dir.file("b.mp4"), c = dir.file("c.mp4")
        try Data(big).write(to: URL(fileURLWithPath: a))
        try Data(big).write(to: URL(fileURLWithPath: b))
        var middle = big
        middle[500_000] ^= 0xFF  // inside the sampled middle block
        try Data(middle).write(to: URL(fileURLWithPath: c))
        #expect(try Fingerprint.of(path: a) == Fingerprint.of(path: b))
        #expect(try Fingerprint.of(path: a) != Fingerprint.of(path: c))
        #expect(try Fingerprint.of(path: a).hasPrefix("s1:1000000:"))

        var unsampled = big
        unsampled[300_000] ^= 0xFF  // between the sampled blocks: only the full hash sees it
        try Data(unsampled).write(to: URL(fileURLWithPath: c))
        #expect(try Fingerprint.of(path: a) == Fingerprint.of(path: c))
        #expect(try Fingerprint.of(path: a, mode: .full) != Fingerprint.of(path: c, mode: .full))
        #expect(throws: StoreError.self) { try Fingerprint.of(path: dir.file("missing.mp4")) }
    }
}
