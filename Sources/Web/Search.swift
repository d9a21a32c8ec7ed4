import Foundation
import Store

/// One search result as the web page shows it: where to jump to, and the match in context.
public struct WebSearchHit: Sendable, Hashable, Codable {
    public var jobID: Int64
    /// The media file's path.
    public var path: String
    /// What matched: "transcript", "scene", "ocr", "summary", … (open set).
    public var kind: String
    /// Seconds into the media; nil for whole-file texts such as a summary.
    public var start: Double?
    public var end: Double?
    /// The match in context, matched terms wrapped in `[` `]` (plain text: the page escapes it).
    public var snippet: String
    /// Relevance: higher is better. Only the order within one answer is meaningful.
    public var score: Double

    public init(jobID: Int64, path: String, kind: String, start: Double?, end: Double?, snippet: String, score: Double) {
        self.jobID = jobID; self.path = path; self.kind = kind; self.start = start; self.end = end
        self.snippet = snippet; self.score = score
    }
}

/// Search over the archive, as the web page needs it. Injected into ``WebServer``, so another
/// implementation can replace ``HybridSearcher`` (words and meaning, as `recap search`) without
/// touching the routes or pages. Results come best first.
public protocol ArchiveSearcher: Sendable {
    func search(_ query: String, limit: Int) async throws -> [WebSearchHit]
}

/// A searcher from a closure, for tests and small adapters.
public struct ClosureSearcher: ArchiveSearcher {
    let body: @Sendable (String, Int) async throws -> [WebSearchHit]
    public init(_ body: @escaping @Sendable (String, Int) async throws -> [WebSearchHit]) { self.body = body }
    public func search(_ query: String, limit: Int) async throws -> [WebSearchHit] { try await body(query, limit) }
}
