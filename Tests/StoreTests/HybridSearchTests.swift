import Foundation
import Testing
@testable import Store

/// Vectors, their cache by text and model, and words + meaning fused. The vectors here are made by hand
/// (axes of a small space); the real embedding model is tested in EngineTests and end to end in PipelineTests.
@Suite struct HybridSearchTests {
    /// A unit vector mostly along `axis`, a little along `also`.
    func v(_ axis: Int, also: Int? = nil, dims: Int = 8) -> [Float] {
        var x = [Float](repeating: 0, count: dims)
        x[axis] = 1
        if let also { x[also] = 0.5 }
        return x
    }

    @Test func halfFloatsRoundTripWithinTheirPrecision() {
        for value: Float in [0, 1, -1, 0.5, 0.123456, -0.987654, 3.14159, 1e-3, -2e-4, 65504, 70000] {
            let back = HalfFloat.value(HalfFloat.bits(value))
            #expect(abs(back - min(value, 65504)) <= max(abs(value) * 1e-3, 1e-4), "\(value) came back as \(back)")
        }
        let vector: [Float] = (0..<384).map { sin(Float($0)) / 14 }
        let decoded = HalfFloat.decode(HalfFloat.encode(vector))
        #expect(decoded.count == 384)
        #expect(zip(vector, decoded).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func exhaustiveSearchFindsTheNearestInOrderAboveTheFloor() {
        var index = VectorIndex(dimensions: 8)
        for i in 0..<8 { index.append(entryID: Int64(100 + i), jobID: Int64(i % 2), vector: JobStore.normalised(v(i, also: (i + 1) % 8))) }
        let hits = index.nearest(to: v(3), limit: 3)
        #expect(hits.count == 3)
        #expect(Array(hits.map(\.entryID).prefix(2)) == [103, 102])  // the third is a tie at 0
        #expect(abs(hits[0].similarity - 1 / Float(1.25).squareRoot()) < 1e-3)
        #expect(index.nearest(to: v(3), limit: 10, minimum: 0.4).map(\.entryID) == [103, 102])
        #expect(index.nearest(to: v(3), limit: 10, minimum: 0.4, allow: { index.jobIDs[$0] == 0 }).map(\.entryID) == [102])
    }

    @Test func vectorsAreKeyedByTextAndModelSoOnlyNewTextsAreEmbedded() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let a = try store.enqueue(request(1)).jobID, b = try store.enqueue(request(2)).jobID
        let shared = SearchEntry(kind: .transcript, start: 0, end: 5, text: "The lighthouse stood at the harbour mouth.")
        try store.replaceSearchEntries(jobID: a, path: "/m/a.mp4", entries: [shared, SearchEntry(kind: .summary, text: "A talk.")])
        try store.replaceSearchEntries(jobID: b, path: "/m/b.mp4", entries: [shared])
        let pending = try store.textsNeedingVectors(model: "m1", limit: 10)
        #expect(pending.count == 2)  // the shared text once
        try store.saveVectors(model: "m1", pending.map { ($0.hash, v(0)) })
        #expect(try store.textsNeedingVectors(model: "m1", limit: 10).isEmpty)
        #expect(try store.vectorCoverage(model: "m1") == (embedded: 2, total: 2))

        // Re-indexing with one text changed: only that text is pending; the old vector is pruned.
        try store.replaceSearchEntries(jobID: a, path: "/m/a.mp4", entries: [shared, SearchEntry(kind: .summary, text: "A talk on lighthouses.")])
        #expect(try store.textsNeedingVectors(model: "m1", limit: 10).map(\.text) == ["A talk on lighthouses."])
        #expect(try store.pruneVectors() == 1)
        // Another model needs every text again.
        #expect(try store.textsNeedingVectors(model: "m2", limit: 10).count == 2)
        // The index holds one row per entry (the shared text twice, once per job).
        let index = try #require(try store.vectorIndex(model: "m1"))
        #expect(index.count == 2)
        #expect(Set(index.jobIDs) == [a, b])
    }

    @Test func wordsAndMeaningAreFusedAndTheFloorDropsUnrelatedMeaning() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let job = try store.enqueue(request(1)).jobID
        let texts = [
            (0.0, "The Pharos of Alexandria was a lighthouse built by the Ptolemies.", 0),
            (10.0, "It fell after a series of earthquakes in the fourteenth century.", 1),
            (20.0, "Our budget for the harbour lighthouse repairs is small.", 2),
            (30.0, "Bake the bread at two hundred degrees.", 5),
        ]
        try store.replaceSearchEntries(jobID: job, path: "/m/talk.mp4", entries: texts.map {
            SearchEntry(kind: .transcript, start: $0.0, end: $0.0 + 9, text: $0.1)
        })
        let pending = try store.textsNeedingVectors(model: "m", limit: 10)
        let axis = Dictionary(uniqueKeysWithValues: texts.map { ($0.1, $0.2) })
        try store.saveVectors(model: "m", pending.map { ($0.hash, v(axis[$0.text]!, also: 1)) })
        let index = try #require(try store.vectorIndex(model: "m"))

        // Meaning only: a query near axis 1 ("destroyed by tremors") shares no word with the passage.
        let meaning = try store.hybridSearch("destroyed by tremors", vector: v(1), index: index, minSimilarity: 0.5)
        #expect(meaning.first?.start == 10)
        #expect(meaning.first?.wordRank == nil && meaning.first?.meaningRank == 1)
        #expect(!meaning.contains { $0.start == 30 }, "the bread passage is below the floor")

        // Found both ways ranks above found one way.
        let both = try store.hybridSearch("lighthouse", vector: v(2), index: index, minSimilarity: 0.5)
        #expect(both.first?.start == 20)
        #expect(both.first?.wordRank != nil && both.first?.meaningRank != nil)
        #expect(both.contains { $0.start == 0 && $0.wordRank != nil })

        // No vector (no embedding model): words alone, as before.
        let words = try store.hybridSearch("earthquakes")
        #expect(words.map(\.start) == [10])
        #expect(words[0].snippet.contains("[earthquakes]"))
    }

    @Test func filtersNarrowBothListsBeforeRanking() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let store = try makeStore(dir)
        let a = try store.enqueue(request(1)).jobID, b = try store.enqueue(request(2)).jobID
        try store.replaceSearchEntries(jobID: a, path: "/archive/2019/a.mp4", entries: [
            SearchEntry(kind: .transcript, start: 1, end: 2, text: "river crossing at dawn", speaker: "Speaker 1"),
            SearchEntry(kind: .transcript, start: 5, end: 6, text: "river crossing at dusk", speaker: "Speaker 2"),
        ], media: SearchMedia(duration: 600, language: "en", date: 1_560_000_000))
        try store.replaceSearchEntries(jobID: b, path: "/archive/2023/b.mp4", entries: [
            SearchEntry(kind: .transcript, start: 3, end: 4, text: "river crossing by ferry"),
        ], media: SearchMedia(duration: 30, language: "de", date: 1_690_000_000))
        try store.saveVectors(model: "m", try store.textsNeedingVectors(model: "m", limit: 10).map { ($0.hash, v(0)) })
        let index = try #require(try store.vectorIndex(model: "m"))

        func paths(_ f: SearchFilters) throws -> Set<String> {
            Set(try store.hybridSearch("river", vector: v(0), index: index, filters: f).map { "\($0.path)@\(Int($0.start ?? -1))" })
        }
        #expect(try paths(.init()).count == 3)
        #expect(try paths(.init(folder: "/archive/2023")) == ["/archive/2023/b.mp4@3"])
        #expect(try paths(.init(folder: "/archive/20")).isEmpty, "a folder matches whole path components")
        #expect(try paths(.init(since: 1_600_000_000)) == ["/archive/2023/b.mp4@3"])
        #expect(try paths(.init(minDuration: 60)) == ["/archive/2019/a.mp4@1", "/archive/2019/a.mp4@5"])
        #expect(try paths(.init(language: "EN", speaker: "speaker 2")) == ["/archive/2019/a.mp4@5"])
        // Meaning alone honours the filter too (a query with no word in common).
        let meaning = try store.hybridSearch("zzz", vector: v(0), index: index, filters: .init(maxDuration: 60))
        #expect(meaning.map(\.path) == ["/archive/2023/b.mp4"])
    }
}
