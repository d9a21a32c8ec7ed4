import ArgumentParser
import Engine
import Foundation

/// Which model turns texts into vectors for search by meaning: the local all-MiniLM-L6-v2 on a supervised
/// llama-server (the default, offline), or any OpenAI-compatible `/v1/embeddings` server.
struct EmbeddingOptions: ParsableArguments {
    @Option(name: .customLong("embed-url"), help: ArgumentHelp(
        "An OpenAI-compatible server for search embeddings, e.g. http://127.0.0.1:8000/v1 (default: the local all-MiniLM-L6-v2). Its API key is read from RECAP_API_KEY or OPENAI_API_KEY.",
        valueName: "url"))
    var url: String?

    @Option(name: .customLong("embed-model"), help: ArgumentHelp("With --embed-url: the embedding model's name on that server.", valueName: "name"))
    var model: String?

    /// An embedder and how to stop it. Vectors of different models never mix: the store keys them by `modelID`,
    /// which for a server includes its address and model name.
    func make() throws -> Embedding {
        if let url {
            let config = OpenAIConfiguration(baseURL: url, model: model ?? "", preset: .generic, requestTimeout: .seconds(120))
            let client = OpenAIEmbedder(configuration: config)
            return Embedding(embedder: client, modelID: "openai:\(config.baseURL)#\(client.modelID)", stop: {})
        }
        // One thread: MiniLM is small, and ggml's spinning threads lose badly to any other load on the cores.
        let local = try LocalEmbedder.installed()
        return Embedding(embedder: local, modelID: local.modelID, stop: { await local.stop() })
    }
}

struct Embedding: Sendable {
    let embedder: any TextEmbedder
    let modelID: String
    let stop: @Sendable () async -> Void
}
