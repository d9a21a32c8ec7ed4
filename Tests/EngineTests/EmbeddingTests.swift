import Foundation
import Models
import Testing
@testable import Engine

/// Cosines of all-MiniLM-L6-v2 sentence embeddings, computed once by scripts/minilm-reference.py: a float64
/// numpy forward pass of the safetensors with Hugging Face's tokenizer, independent of llama.cpp and of the
/// converter.
enum MiniLMReference {
    static let sentences = [
        "an ancient wonder destroyed by earthquakes",
        "the lighthouse of Alexandria collapsed after tremors",
        "How do I bake sourdough bread at home?",
        "a recipe for a loaf made with a natural yeast starter",
        "The stock market fell sharply on Monday",
        "share prices dropped steeply at the start of the week",
        "Photosynthesis converts sunlight into chemical energy in plants",
    ]
    /// Pairs that say the same thing in different words (no shared content word).
    static let paraphrases = [(0, 1), (2, 3), (4, 5)]
    static let cosines: [[Float]] = [
        [1.0000, 0.4134, -0.0741, -0.0211, 0.1325, 0.0405, -0.0054],
        [0.4134, 1.0000, -0.0556, 0.0114, 0.1627, 0.0613, 0.0887],
        [-0.0741, -0.0556, 1.0000, 0.5167, 0.0535, 0.0235, 0.0517],
        [-0.0211, 0.0114, 0.5167, 1.0000, 0.0322, 0.0797, 0.0567],
        [0.1325, 0.1627, 0.0535, 0.0322, 1.0000, 0.6313, 0.0075],
        [0.0405, 0.0613, 0.0235, 0.0797, 0.6313, 1.0000, -0.0226],
        [-0.0054, 0.0887, 0.0517, 0.0567, 0.0075, -0.0226, 1.0000],
    ]
}

/// One llama-server with MiniLM shared by the tests that only embed (startups are the slow part). Tests run
/// in parallel: the first caller's start is shared, so a second server is never started meanwhile.
actor SharedEmbedder {
    static let shared = SharedEmbedder()
    private var starting: Task<LocalEmbedder, any Error>?

    func local() async throws -> LocalEmbedder {
        if starting == nil {
            starting = Task {
                let e = try LocalEmbedder.installed()
                try await e.start()
                return e
            }
        }
        return try await starting!.value
    }
}

@Suite struct EmbeddingTests {
    /// The installed GGUF is the pinned conversion (the installer hashed it before moving it into place;
    /// SpeechTests' BertConverterTests converts again and re-hashes).
    @Test func installedGGUFIsThePinnedConversion() throws {
        let url = try ModelCatalog.path(for: .miniLM)
        guard case .sentenceTransformerBERT(_, _, let pinned) = ModelCatalog.spec(.miniLM).kind else {
            Issue.record("miniLM is not a converted BERT"); return
        }
        #expect(InstallRecord.read(for: .miniLM)?.sha256 == pinned)
        #expect(url.lastPathComponent == "all-MiniLM-L6-v2.f16.gguf")
    }

    @Test func llamaServerEmbedsWithTheReferenceCosines() async throws {
        let embedder = try await SharedEmbedder.shared.local()
        #expect(embedder.modelID == "all-minilm-l6-v2")
        let v = try await embedder.embed(MiniLMReference.sentences)
        #expect(v.count == MiniLMReference.sentences.count)
        for x in v {
            #expect(x.count == 384)
            #expect(abs(x.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)  // L2-normalised
        }
        var worst: Float = 0
        for i in v.indices {
            for j in v.indices where j > i {
                let c = EmbeddingMath.cosine(v[i], v[j])
                worst = max(worst, abs(c - MiniLMReference.cosines[i][j]))
                #expect(abs(c - MiniLMReference.cosines[i][j]) < 0.01, "pair \(i),\(j): \(c) vs \(MiniLMReference.cosines[i][j])")
            }
        }
        print("MiniLM cosines: worst difference from the numpy reference \(worst)")
    }

    /// Meaning, not shared words: each paraphrase pair scores clearly above every unrelated pair.
    @Test func paraphrasesScoreAboveUnrelatedPairs() async throws {
        let embedder = try await SharedEmbedder.shared.local()
        let v = try await embedder.embed(MiniLMReference.sentences)
        let related = Set(MiniLMReference.paraphrases.map { "\($0.0),\($0.1)" })
        var unrelated: Float = -1
        for i in v.indices { for j in v.indices where j > i && !related.contains("\(i),\(j)") {
            unrelated = max(unrelated, EmbeddingMath.cosine(v[i], v[j]))
        } }
        for (a, b) in MiniLMReference.paraphrases {
            let c = EmbeddingMath.cosine(v[a], v[b])
            #expect(c > unrelated + 0.2, "\(MiniLMReference.sentences[a]) / \(MiniLMReference.sentences[b]): \(c) vs unrelated \(unrelated)")
        }
        let wonder = EmbeddingMath.cosine(v[0], v[1])
        print("MiniLM: wonder/lighthouse \(wonder), best unrelated pair \(unrelated)")
    }

    @Test func orderBatchesAndEmptyTextsAreKept() async throws {
        let embedder = try await SharedEmbedder.shared.local()
        let s = MiniLMReference.sentences
        let forward = try await embedder.embed(s)
        let backward = try await embedder.embed(s.reversed())
        for i in s.indices { #expect(EmbeddingMath.cosine(forward[i], backward[s.count - 1 - i]) > 0.999) }
        // More texts than one request holds (32): still one vector per text, in order.
        let many = (0..<70).map { s[$0 % s.count] }
        let vs = try await embedder.embed(many)
        #expect(vs.count == 70)
        for i in many.indices { #expect(EmbeddingMath.cosine(vs[i], forward[i % s.count]) > 0.999) }
        let withEmpty = try await embedder.embed(["", s[0], "   "])
        #expect(withEmpty.map(\.count) == [384, 384, 384])
        #expect(withEmpty[0].allSatisfy { $0 == 0 } && withEmpty[2].allSatisfy { $0 == 0 })
        #expect(try await embedder.embed([]).isEmpty)
    }

    /// The GGUF's tokenizer normalises like the model's own (BertNormalizer: lower case, accents stripped).
    @Test func caseAndAccentsDoNotChangeTheVector() async throws {
        let embedder = try await SharedEmbedder.shared.local()
        let v = try await embedder.embed(["Crème brûlée at the CAFÉ", "creme brulee at the cafe"])
        #expect(EmbeddingMath.cosine(v[0], v[1]) > 0.999)
    }

    /// Inputs past the model's length are cut to whole words within 256 tokens (sentence-transformers' own
    /// limit for MiniLM), never a failed call.
    @Test func longInputsAreCutByWordsNotRejected() async throws {
        let embedder = try await SharedEmbedder.shared.local()
        let long = String(repeating: "the river carries sediment to the delta where it settles ", count: 300)  // 3000 words
        // Digits and commas: 23 tokens a word, so far fewer words fit; and one 1500-character "word".
        let dense = (0..<400).map { _ in (0..<12).map(String.init).joined(separator: ",") }.joined(separator: " ")
        let blob = String(repeating: "7,", count: 750)
        for text in [long, dense, blob] {
            let cut = try await embedder.fit(text)
            #expect(text.hasPrefix(cut) && cut.count < text.count)
            let server = try await embedder.supervisor.ensureRunning()
            let n = try await tokenCount(cut, server: server)
            #expect(n <= 256, "\(n) tokens")
            if text != blob { #expect(n > 230, "a word more would have fitted: \(n) tokens") }
        }
        #expect(try await embedder.fit("a short text") == "a short text")
        let v = try await embedder.embed([long, dense, blob, MiniLMReference.sentences[0]])
        #expect(v.count == 4)
        #expect(v.allSatisfy { $0.count == 384 && abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 })
        #expect(EmbeddingMath.truncated("a  b\tc\nd", maxWords: 2) == "a  b")
        #expect(EmbeddingMath.truncated("a b", maxWords: 5) == "a b")
    }

    private func tokenCount(_ text: String, server: String) async throws -> Int {
        let http = HTTPTransport(configuration: OpenAIConfiguration(baseURL: server, preset: .llamaServer, apiKey: nil))
        let body = try JSONSerialization.data(withJSONObject: ["content": text, "add_special": true] as [String: Any])
        let reply = try await http.send("/tokenize", body: body, root: true)
        return ((try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["tokens"] as? [Any])?.count ?? -1
    }

    /// Measured once for the report: ~30-word passages per second on this machine.
    @Test func throughputOfThirtyWordPassages() async throws {
        let embedder = try await SharedEmbedder.shared.local()
        let words = MiniLMReference.sentences.joined(separator: " ").split(separator: " ")
        let passages = (0..<128).map { i in (0..<30).map { String(words[(i * 7 + $0) % words.count]) }.joined(separator: " ") }
        _ = try await embedder.embed(Array(passages.prefix(8)))  // warm
        let start = ContinuousClock.now
        let v = try await embedder.embed(passages)
        let seconds = (ContinuousClock.now - start).seconds
        #expect(v.count == passages.count)
        print(String(format: "MiniLM throughput: %.1f passages/s (128 × 30 words in %.2f s)", Double(passages.count) / seconds, seconds))
    }

    @Test func stopEndsTheServer() async throws {
        let e = try LocalEmbedder.installed()
        _ = try await e.embed(["one sentence"])
        let pid = try #require(await e.supervisor.pid)
        await e.stop()
        #expect(!Fixtures.isAlive(pid))
        await #expect(throws: EngineError.self) { _ = try await e.embed(["after stop"]) }
    }

    @Test func aMissingModelSaysHowToInstallIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recap-embed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            _ = try LocalEmbedder.installed(paths: RecapPaths(cache: dir))
        } throws: { error in
            "\(error)".contains("recap models install all-minilm-l6-v2")
        }
        #expect(try LocalModel(named: "minilm") == .miniLM)
    }

    @Test func anUnreachableServerIsATypedError() async throws {
        let embedder = OpenAIEmbedder(configuration: OpenAIConfiguration(
            baseURL: "http://127.0.0.1:9/v1", model: "m", apiKey: "sk-secret-key-1234", connectTimeout: .seconds(1), maxRetries: 0))
        await #expect {
            _ = try await embedder.embed(["x"])
        } throws: { error in
            guard case EngineError.unreachable = error else { return false }
            return !"\(error)".contains("sk-secret-key-1234")
        }
    }
}
