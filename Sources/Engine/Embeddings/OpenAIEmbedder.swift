import Foundation

/// Embeddings from any server with the OpenAI `/v1/embeddings` endpoint (llama-server `--embedding`, vLLM,
/// OpenAI): `{model, input: [texts]}` → `{data: [{index, embedding}]}`, sent in batches. Shares the chat
/// engine's transport: its timeouts and retries, and its redaction, so the API key never reaches an error.
public struct OpenAIEmbedder: TextEmbedder {
    public let configuration: OpenAIConfiguration
    /// Texts per request: servers cap the batch (OpenAI at 2048 inputs), and a smaller one bounds the time a
    /// request can take.
    public let batchSize: Int
    public var modelID: String { configuration.model.isEmpty ? "server-default" : configuration.model }
    let transport: HTTPTransport

    public init(configuration: OpenAIConfiguration, batchSize: Int = 32) {
        self.configuration = configuration
        self.batchSize = max(1, batchSize)
        transport = HTTPTransport(configuration: configuration)
    }

    /// Empty (or all-blank) texts get the zero vector without a request: servers reject empty inputs
    /// (llama-server: "Input content cannot be empty"), and an empty text has no meaning to place.
    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(start + batchSize, texts.count)])
            out += try await embedBatch(batch)
            start += batch.count
        }
        let dim = out.lazy.map(\.count).first { $0 > 0 } ?? 0
        return out.map { $0.isEmpty ? [Float](repeating: 0, count: dim) : $0 }
    }

    private struct Request: Encodable {
        var model: String?
        var input: [String]
        var encoding_format = "float"
    }

    private struct Response: Decodable {
        struct Item: Decodable {
            var index: Int?
            var embedding: [Float]
        }
        var data: [Item]
    }

    private func embedBatch(_ texts: [String]) async throws -> [[Float]] {
        let url = configuration.baseURL + "/embeddings"
        let asked = texts.indices.filter { !texts[$0].allSatisfy(\.isWhitespace) }
        var vectors = [[Float]](repeating: [], count: texts.count)
        guard !asked.isEmpty else { return vectors }
        let body = try JSONEncoder().encode(Request(model: configuration.model.isEmpty ? nil : configuration.model,
                                                    input: asked.map { texts[$0] }))
        let reply = try await transport.send("/embeddings", body: body)
        let decoded: Response
        do { decoded = try JSONDecoder().decode(Response.self, from: reply.body) } catch {
            throw EngineError.malformedResponse(url: url, reason: "not an embeddings answer (\(HTTPTransport.shortReason(reply.body)))")
        }
        guard decoded.data.count == asked.count else {
            throw EngineError.malformedResponse(url: url, reason: "\(decoded.data.count) embeddings for \(asked.count) inputs")
        }
        for (position, item) in decoded.data.enumerated() {
            let i = item.index ?? position
            guard asked.indices.contains(i), vectors[asked[i]].isEmpty, !item.embedding.isEmpty else {
                throw EngineError.malformedResponse(url: url, reason: "embedding index \(i) is missing, repeated or out of range")
            }
            vectors[asked[i]] = EmbeddingMath.normalized(item.embedding)
        }
        guard Set(decoded.data.map(\.embedding.count)).count == 1 else {
            throw EngineError.malformedResponse(url: url, reason: "embeddings of different lengths in one answer")
        }
        return vectors
    }
}
