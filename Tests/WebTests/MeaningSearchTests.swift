import Engine
import Foundation
import Pipeline
import Store
import Testing
import Web

/// The page's search with the real embedding model: all-MiniLM-L6-v2 on llama-server, vectors made by the
/// same pass `recap run` uses (VectorIndexing), kept loaded by HybridSearcher and reloaded when they change.
@Suite(.serialized) struct MeaningSearchTests {
    @Test func aQueryWithNoWordOfTheTranscriptFindsItAndNewVectorsAreSeen() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let embedder = try LocalEmbedder.installed()
        let indexing = VectorIndexing(store: f.store, model: embedder.modelID) { try await embedder.embed($0) }
        let first = try await indexing.run()
        #expect(first.embedded > 0)
        let searcher = HybridSearcher(store: f.store, embedder: embedder, modelID: embedder.modelID)
        let wordsOnly = HybridSearcher(store: f.store, embedder: nil, modelID: nil)

        // The transcript says "a delta forms where a slow river meets the sea … sand and mud at the river mouth".
        let query = "sediment piling up near the coast"
        let hits = try await searcher.search(query, limit: 5)
        #expect(hits.first?.jobID == f.narratedID, "\(hits)")
        #expect(hits.first?.start != nil)
        #expect(try await wordsOnly.search(query, limit: 5).isEmpty)
        // An unrelated query stays below the similarity floor.
        #expect(try await searcher.search("quarterly tax filing deadlines", limit: 5).isEmpty)

        // A job indexed while the server runs is found once its vectors exist (the loaded index is reloaded).
        let late = try f.store.enqueue(EnqueueRequest(fingerprint: "late", path: "/elsewhere/late.mp4",
                                                      identity: JobIdentity(pipeline: "t", pipelineVersion: "1", engine: "e"))).jobID
        try f.store.replaceSearchEntries(jobID: late, path: "/elsewhere/late.mp4", entries: [
            SearchEntry(kind: .transcript, start: 3, end: 9, text: "Our grandmother baked bread every Sunday morning."),
        ])
        #expect(try await indexing.run().embedded == 1)
        let later = try await searcher.search("family recipes for homemade loaves", limit: 3)
        #expect(later.first?.jobID == late, "\(later)")
        await embedder.stop()
    }
}
