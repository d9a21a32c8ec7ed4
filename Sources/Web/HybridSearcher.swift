import Engine
import Foundation
import Store

/// Words and meaning, as `recap search` does (``JobStore/hybridSearch``), for a long-running server: the
/// vectors stay loaded and are reloaded only when the store's entries or vectors change, and the embedding
/// model starts on the first search. Without vectors or an embedder it searches by words.
public actor HybridSearcher: ArchiveSearcher {
    let store: JobStore
    let embedder: (any TextEmbedder)?
    let modelID: String?
    let minSimilarity: Double
    private var index: VectorIndex?
    private var stamp: String?

    public init(store: JobStore, embedder: (any TextEmbedder)?, modelID: String?, minSimilarity: Double = 0.3) {
        self.store = store
        self.embedder = embedder
        self.modelID = modelID
        self.minSimilarity = minSimilarity
    }

    public func search(_ query: String, limit: Int) async throws -> [WebSearchHit] {
        var meaning: (vector: [Float], index: VectorIndex)?
        if let embedder, let modelID, let index = try currentIndex(modelID),
           let vector = try? await embedder.embed([query]).first {  // a failing model leaves the word search
            meaning = (vector, index)
        }
        let hits = try store.hybridSearch(query, vector: meaning?.vector, index: meaning?.index,
                                          limit: limit, minSimilarity: minSimilarity)
        return hits.map {
            WebSearchHit(jobID: $0.jobID, path: $0.path, kind: $0.kind.rawValue, start: $0.start, end: $0.end,
                         snippet: $0.snippet, score: $0.score)
        }
    }

    private func currentIndex(_ model: String) throws -> VectorIndex? {
        let now = try store.vectorStamp(model: model)
        if now != stamp {
            index = try store.vectorIndex(model: model)
            stamp = now
        }
        return index
    }
}
