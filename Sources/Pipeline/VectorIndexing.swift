import Foundation
import Store

/// Gives every indexed text a vector from the embedding model, in batches, until none is missing.
///
/// It works from the store's list of texts without a vector for this model, so it is resumable and
/// exactly-once in the way that matters: a kill loses at most the batch in flight, a text is embedded once
/// however many entries or copies share it, and changing the model (its id) makes every text pending again.
/// Two overlapping runs may embed the same batch twice; the rows they write are identical.
public struct VectorIndexing: Sendable {
    public typealias Embed = @Sendable ([String]) async throws -> [[Float]]

    public let store: any VectorStore
    /// Names the vectors: a different model must never be compared with this one's.
    public let model: String
    public let embed: Embed
    public var batchSize = 64

    public init(store: any VectorStore, model: String, embed: @escaping Embed) {
        self.store = store
        self.model = model
        self.embed = embed
    }

    public struct Report: Sendable, Equatable {
        public var embedded = 0
        public var seconds = 0.0
    }

    /// Embeds what is missing; `progress` gets the number done so far and the number that was missing.
    public func run(progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> Report {
        let started = Date()
        let coverage = try await store.vectorCoverage(model: model)
        let missing = coverage.total - coverage.embedded
        var report = Report()
        while true {
            try Task.checkCancellation()
            let pending = try await store.textsNeedingVectors(model: model, limit: batchSize)
            if pending.isEmpty { break }
            let vectors = try await embed(pending.map(\.text))
            guard vectors.count == pending.count else {
                throw VectorIndexingError.countMismatch(sent: pending.count, got: vectors.count)
            }
            try await store.saveVectors(model: model, zip(pending.map(\.hash), vectors).map { ($0, $1) })
            report.embedded += pending.count
            progress?(report.embedded, missing)
        }
        try await store.pruneVectors()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}

public enum VectorIndexingError: Error, CustomStringConvertible {
    case countMismatch(sent: Int, got: Int)
    public var description: String {
        switch self {
        case .countMismatch(let sent, let got):
            return "the embedding model returned \(got) vectors for \(sent) texts; search vectors were not saved"
        }
    }
}
