import Foundation
import Models

/// Embeddings offline: a supervised llama-server (`--embedding --pooling mean`) running the catalog's
/// all-MiniLM-L6-v2 GGUF, asked through `OpenAIEmbedder`. The server starts on first use (or `start()`) and
/// must be stopped with `stop()`; it never outlives Recap either way (see `ChildProcess`).
public actor LocalEmbedder: TextEmbedder {
    public nonisolated let modelID: String
    public let supervisor: LlamaServerSupervisor
    /// Words kept per input. MiniLM sees at most 512 tokens (and was trained on 256): a longer text is cut to
    /// its first `maxWords` words rather than failing the call. 200 English words are about 260 WordPiece tokens.
    public let maxWords: Int
    public let batchSize: Int
    private var client: OpenAIEmbedder?

    public init(server: LlamaServerOptions, modelID: String, maxWords: Int = 200, batchSize: Int = 32) {
        self.modelID = modelID
        self.maxWords = max(1, maxWords)
        self.batchSize = batchSize
        supervisor = LlamaServerSupervisor(options: server)
    }

    /// llama-server options for a BERT-style embedding GGUF with `positions` positions (MiniLM: 512).
    /// A non-causal model cannot split a sequence across micro-batches, so the physical batch holds a whole
    /// context (`-b` = `-ub` = `positions`); `slots` parallel slots of `positions` tokens each let short texts
    /// share one forward pass.
    public static func serverOptions(binary: String, model: String, positions: Int = 512, slots: Int = 8,
                                     threads: Int = 2) -> LlamaServerOptions {
        LlamaServerOptions(
            binary: binary, model: model, contextTokens: positions * slots, threads: threads,
            // -np after the supervisor's own "-np 1": llama-server takes the last value.
            extraArguments: ["--embedding", "--pooling", "mean", "-b", String(positions), "-ub", String(positions),
                             "-np", String(slots)],
            startupTimeout: .seconds(60))
    }

    /// The default embedder: all-MiniLM-L6-v2 from Recap's models folder on llama-server from its prefix.
    /// - Throws: `ModelError.notInstalled` ("run `recap models install all-minilm-l6-v2`") when the model is
    ///   missing, `ModelError.toolMissing` when llama-server is.
    public static func installed(paths: RecapPaths = .fromEnvironment(), threads: Int = 2) throws -> LocalEmbedder {
        let model = try ModelCatalog.path(for: .miniLM, paths: paths)
        let server = serverOptions(binary: try paths.llamaServer().path, model: model.path, threads: threads)
        return LocalEmbedder(server: server, modelID: LocalModel.miniLM.rawValue)
    }

    /// Starts llama-server now and waits until it is healthy (otherwise the first `embed` does).
    public func start() async throws {
        _ = try await connected()
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let client = try await connected()
        let cut = texts.map { EmbeddingMath.truncated($0, maxWords: maxWords) }
        do {
            return try await client.embed(cut)
        } catch let e as EngineError where Self.isTooLong(e) {
            // Some text is still over the context in tokens (long runs of digits or punctuation split into many
            // pieces): one at a time, each halved until it fits.
            var out: [[Float]] = []
            for text in cut { out.append(try await embedShortening(text, client: client)) }
            return out
        }
    }

    /// Stops llama-server; the embedder cannot be used afterwards.
    public func stop() async {
        await supervisor.stop()
    }

    private func embedShortening(_ text: String, client: OpenAIEmbedder) async throws -> [Float] {
        var words = maxWords
        while true {
            do {
                return try await client.embed([EmbeddingMath.truncated(text, maxWords: words)])[0]
            } catch let e as EngineError where Self.isTooLong(e) && words > 1 {
                words /= 2
            }
        }
    }

    /// llama-server's answers to an input longer than a slot's context or a micro-batch.
    static func isTooLong(_ e: EngineError) -> Bool {
        guard case .httpStatus(_, _, let body) = e else { return false }
        return body.contains("too large to process") || body.contains("exceeds the available context")
    }

    private func connected() async throws -> OpenAIEmbedder {
        let url = try await supervisor.ensureRunning()
        if let client, client.configuration.baseURL == url { return client }
        // Few retries, soon: the server is local, and an over-long input is answered 500, which is final.
        let c = OpenAIEmbedder(configuration: OpenAIConfiguration(
            baseURL: url, model: modelID, preset: .llamaServer, apiKey: nil, connectTimeout: .seconds(2),
            requestTimeout: .seconds(300), maxRetries: 2, initialBackoff: .milliseconds(200),
            serverName: "the local llama-server"), batchSize: batchSize)
        client = c
        return c
    }
}
