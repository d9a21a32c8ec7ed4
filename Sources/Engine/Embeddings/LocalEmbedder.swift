import Foundation
import Models

/// Embeddings offline: a supervised llama-server (`--embedding --pooling mean`) running the catalog's
/// all-MiniLM-L6-v2 GGUF, asked through `OpenAIEmbedder`. The server starts on first use (or `start()`) and
/// must be stopped with `stop()`; it never outlives Recap either way (see `ChildProcess`).
public actor LocalEmbedder: TextEmbedder {
    public nonisolated let modelID: String
    public let supervisor: LlamaServerSupervisor
    /// Tokens kept per input, [CLS] and [SEP] included: MiniLM holds 512 positions but sentence-transformers
    /// runs it with at most 256 (its max_seq_length), the length its vectors were trained for. A longer text is
    /// cut to the longest run of whole words that fits, never a failed call.
    public let maxTokens: Int
    public let batchSize: Int
    private var client: OpenAIEmbedder?

    public init(server: LlamaServerOptions, modelID: String, maxTokens: Int = 256, batchSize: Int = 32) {
        self.modelID = modelID
        self.maxTokens = max(3, maxTokens)
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
    /// One thread by default: ggml's threads wait for each other at every step, so on 2 busy cores (whisper or the
    /// language model running beside it) two threads were 2–5× slower than one (128 passages: 4–10 s against
    /// 2 s); on idle cores two are faster (0.8 s).
    /// - Throws: `ModelError.notInstalled` ("run `recap models install all-minilm-l6-v2`") when the model is
    ///   missing, `ModelError.toolMissing` when llama-server is.
    public static func installed(paths: RecapPaths = .fromEnvironment(), threads: Int = 1) throws -> LocalEmbedder {
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
        var fitted: [String] = []
        fitted.reserveCapacity(texts.count)
        for text in texts { fitted.append(try await fit(text)) }
        return try await client.embed(fitted)
    }

    /// Stops llama-server; the embedder cannot be used afterwards.
    public func stop() async {
        await supervisor.stop()
    }

    /// `text`, or its longest prefix of whole words within `maxTokens` tokens, counted by the server's own
    /// tokenizer. A WordPiece token covers at least one character (Unicode scalar), so short texts need no
    /// count, and more words than tokens never fit.
    func fit(_ text: String) async throws -> String {
        let client = try await connected()
        let budget = maxTokens
        if text.unicodeScalars.count <= budget - 2 { return text }
        let capped = EmbeddingMath.truncated(text, maxWords: budget - 2)
        if try await tokens(capped, client: client) <= budget { return capped }
        var fits = 0, fails = EmbeddingMath.wordCount(capped)
        while fails - fits > 1 {
            let mid = (fits + fails) / 2
            if try await tokens(EmbeddingMath.truncated(capped, maxWords: mid), client: client) <= budget { fits = mid } else { fails = mid }
        }
        // Not even one word fits (one long run of digits and punctuation): its first characters do.
        return fits > 0 ? EmbeddingMath.truncated(capped, maxWords: fits)
            : String(String.UnicodeScalarView(capped.unicodeScalars.prefix(budget - 2)))
    }

    private struct TokenizeRequest: Encodable {
        var content: String
        var add_special = true
    }

    private struct TokenizeResponse: Decodable {
        var tokens: [Int]
    }

    /// Tokens of `text` as the server counts them, [CLS] and [SEP] included (`POST /tokenize`).
    private func tokens(_ text: String, client: OpenAIEmbedder) async throws -> Int {
        let reply = try await client.transport.send("/tokenize", body: try JSONEncoder().encode(TokenizeRequest(content: text)),
                                                    root: true, retries: 2, timeout: .seconds(30))
        do { return try JSONDecoder().decode(TokenizeResponse.self, from: reply.body).tokens.count } catch {
            throw EngineError.malformedResponse(url: client.configuration.serverRoot + "/tokenize", reason: "no token list")
        }
    }

    private func connected() async throws -> OpenAIEmbedder {
        let url = try await supervisor.ensureRunning()
        if let client, client.configuration.baseURL == url { return client }
        // Few retries, soon: the server is local.
        let c = OpenAIEmbedder(configuration: OpenAIConfiguration(
            baseURL: url, model: modelID, preset: .llamaServer, apiKey: nil, connectTimeout: .seconds(2),
            requestTimeout: .seconds(300), maxRetries: 2, initialBackoff: .milliseconds(200),
            serverName: "the local llama-server"), batchSize: batchSize)
        client = c
        return c
    }
}
