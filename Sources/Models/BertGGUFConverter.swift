import Foundation

/// Converts a sentence-transformers BERT (a Hugging Face folder: `model.safetensors`, `config.json`,
/// `tokenizer.json`, `modules.json` and its pooling config) into the GGUF that llama.cpp's `bert` architecture
/// loads, doing what the vendored llama.cpp's `convert_hf_to_gguf.py` (class `BertModel`) does, without Python:
///
/// - tensors renamed as gguf-py's tensor_mapping says (`embeddings.word_embeddings` → `token_embd`,
///   `encoder.layer.N.attention.self.query` → `blk.N.attn_q`, …); `position_ids` and the pooler dropped;
///   2-D weights f16, but norms, biases, position and token-type embeddings f32 (its `prepare_tensors` rules);
/// - `bert.*` hyper-parameters from config.json, non-causal attention, the pooling type from modules.json;
/// - the WordPiece vocabulary in llama.cpp's "phantom space" form: `##piece` → `piece`, a word start `w` →
///   `▁w`, special tokens as they are (type CONTROL); special token ids and add-BOS/EOS/SEP as its
///   `SpecialVocab` derives them from tokenizer.json's post-processor.
///
/// Only the shape of tokenizer Recap installs is accepted (WordPiece, lower-casing BertNormalizer,
/// `[CLS] A [SEP]`): the pre-tokenizer name and the special-token rules below were worked out for it.
public enum BertGGUFConverter {
    public struct Summary: Sendable, Equatable {
        public var bytesWritten: Int
        public var tensors: Int
        public var vocabularyTokens: Int
        public var layers: Int
        public var embeddingLength: Int
    }

    /// gguf-py's TokenType values.
    enum TokenType: Int32 { case normal = 1, control = 3, unused = 5 }

    /// Writes `output` (atomically) from the model folder `directory`; `name` becomes `general.name`.
    public static func convert(directory: URL, name: String, to output: URL) throws -> Summary {
        let config = try json(directory.appendingPathComponent("config.json"))
        guard config["model_type"] as? String == "bert" else {
            throw ModelError.badSourceModel(path: directory.path, reason: "config.json model_type is not bert")
        }
        func hparam(_ key: String) throws -> Int {
            guard let v = config[key] as? Int, v > 0 else {
                throw ModelError.badSourceModel(path: directory.path, reason: "config.json has no \(key)")
            }
            return v
        }
        let layers = try hparam("num_hidden_layers"), nEmbd = try hparam("hidden_size")
        let vocabSize = try hparam("vocab_size")
        let eps = (config["layer_norm_eps"] as? Double) ?? 1e-12

        var gguf = GGUFWriter()
        gguf.add("general.architecture", .string("bert"))
        gguf.add("general.type", .string("model"))
        gguf.add("general.name", .string(name))
        gguf.add("bert.block_count", .uint32(UInt32(layers)))
        gguf.add("bert.context_length", .uint32(UInt32(try hparam("max_position_embeddings"))))
        gguf.add("bert.embedding_length", .uint32(UInt32(nEmbd)))
        gguf.add("bert.feed_forward_length", .uint32(UInt32(try hparam("intermediate_size"))))
        gguf.add("bert.attention.head_count", .uint32(UInt32(try hparam("num_attention_heads"))))
        gguf.add("bert.attention.layer_norm_epsilon", .float32(Float(eps)))
        gguf.add("general.file_type", .uint32(1))  // LlamaFileType.MOSTLY_F16
        gguf.add("bert.attention.causal", .bool(false))
        gguf.add("bert.pooling_type", .uint32(try poolingType(directory)))
        gguf.add("general.quantization_version", .uint32(2))

        let vocab = try BertVocabulary(tokenizerJSON: directory.appendingPathComponent("tokenizer.json"), size: vocabSize)
        gguf.add("tokenizer.ggml.token_type_count", .uint32(UInt32(config["type_vocab_size"] as? Int ?? 1)))
        gguf.add("tokenizer.ggml.model", .string("bert"))
        // The converter names the pre-tokenizer by hashing how the tokenizer splits a probe text; this
        // vocabulary's hash (0876d13b…, bert-base-uncased's) maps to "jina-v2-en" in its table (the last of two
        // matches). llama.cpp ignores the name for WordPiece vocabularies; it is kept for fidelity.
        gguf.add("tokenizer.ggml.pre", .string("jina-v2-en"))
        gguf.add("tokenizer.ggml.tokens", .strings(vocab.phantomTokens))
        gguf.add("tokenizer.ggml.token_type", .int32s(vocab.types.map(\.rawValue)))
        // SpecialVocab: with cls/sep but no bos/eos in the tokenizer config, bos := [CLS] and eos := [SEP];
        // gguf-py has no writer for a cls id, so none is written.
        gguf.add("tokenizer.ggml.bos_token_id", .uint32(try vocab.id(of: "[CLS]")))
        gguf.add("tokenizer.ggml.eos_token_id", .uint32(try vocab.id(of: "[SEP]")))
        gguf.add("tokenizer.ggml.unknown_token_id", .uint32(try vocab.id(of: "[UNK]")))
        gguf.add("tokenizer.ggml.seperator_token_id", .uint32(try vocab.id(of: "[SEP]")))  // sic: llama.cpp's key
        gguf.add("tokenizer.ggml.padding_token_id", .uint32(try vocab.id(of: "[PAD]")))
        gguf.add("tokenizer.ggml.mask_token_id", .uint32(try vocab.id(of: "[MASK]")))
        // `[CLS] A [SEP]` adds BOS and EOS; the pair template's middle [SEP] is the trailing token again, which
        // SpecialVocab does not count as a separate SEP.
        gguf.add("tokenizer.ggml.add_bos_token", .bool(true))
        gguf.add("tokenizer.ggml.add_eos_token", .bool(true))
        gguf.add("tokenizer.ggml.add_sep_token", .bool(false))
        gguf.add("tokenizer.ggml.normalizer.lowercase", .bool(true))

        let weights = try SafeTensors(url: directory.appendingPathComponent("model.safetensors"))
        var used: Set<String> = ["embeddings.position_ids"]
        func add(_ dst: String, _ src: String, f32: Bool = false) throws {
            // Some exports prefix everything with "bert." (BertForMaskedLM); sentence-transformers does not.
            let key = weights.tensors[src] != nil ? src : "bert." + src
            let t = try weights.tensor(key)
            used.insert(key)
            let keepF32 = f32 || t.shape.count < 2 || dst.hasSuffix("_norm.weight") || !dst.hasSuffix(".weight")
            gguf.addTensor(dst, shape: t.shape, values: try weights.floats(t), as: keepF32 ? .f32 : .f16)
        }
        try add("token_embd.weight", "embeddings.word_embeddings.weight")
        try add("token_types.weight", "embeddings.token_type_embeddings.weight", f32: true)
        try add("position_embd.weight", "embeddings.position_embeddings.weight", f32: true)
        try add("token_embd_norm.weight", "embeddings.LayerNorm.weight")
        try add("token_embd_norm.bias", "embeddings.LayerNorm.bias")
        for i in 0..<layers {
            let src = "encoder.layer.\(i).", dst = "blk.\(i)."
            for (to, from) in [("attn_q", "attention.self.query"), ("attn_k", "attention.self.key"),
                               ("attn_v", "attention.self.value"), ("attn_output", "attention.output.dense"),
                               ("attn_output_norm", "attention.output.LayerNorm"), ("ffn_up", "intermediate.dense"),
                               ("ffn_down", "output.dense"), ("layer_output_norm", "output.LayerNorm")] {
                try add(dst + to + ".weight", src + from + ".weight")
                try add(dst + to + ".bias", src + from + ".bias")
            }
        }
        // The pooler is not used for embeddings; anything else unknown means a different model.
        let left = weights.tensors.keys.filter { !used.contains($0) && !$0.contains("pooler.") }.sorted()
        guard left.isEmpty else {
            throw ModelError.badSourceModel(path: weights.path, reason: "unexpected tensors \(left.prefix(5).joined(separator: ", "))")
        }
        let size = try gguf.write(to: output)
        return Summary(bytesWritten: size, tensors: gguf.tensors.count, vocabularyTokens: vocab.phantomTokens.count,
                       layers: layers, embeddingLength: nEmbd)
    }

    /// `bert.pooling_type` (gguf-py's PoolingType: 1 mean, 2 cls, 3 last) from the Pooling module's config.
    static func poolingType(_ directory: URL) throws -> UInt32 {
        let modules = try JSONSerialization.jsonObject(with: read(directory.appendingPathComponent("modules.json"))) as? [[String: Any]] ?? []
        guard let path = modules.first(where: { ($0["type"] as? String)?.hasSuffix("Pooling") == true })?["path"] as? String else {
            throw ModelError.badSourceModel(path: directory.path, reason: "modules.json names no Pooling module")
        }
        let pooling = try json(directory.appendingPathComponent(path).appendingPathComponent("config.json"))
        if pooling["pooling_mode_mean_tokens"] as? Bool == true { return 1 }
        if pooling["pooling_mode_cls_token"] as? Bool == true { return 2 }
        if pooling["pooling_mode_lasttoken"] as? Bool == true { return 3 }
        throw ModelError.badSourceModel(path: directory.path, reason: "pooling is not mean, cls or last-token")
    }

    static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw ModelError.badSourceModel(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
    }

    static func json(_ url: URL) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: read(url)) as? [String: Any] else {
            throw ModelError.badSourceModel(path: url.path, reason: "not a JSON object")
        }
        return object
    }
}

/// tokenizer.json's WordPiece vocabulary, indexed by id, as llama.cpp's converter lists it.
struct BertVocabulary {
    var tokens: [String]  // as in tokenizer.json
    var types: [BertGGUFConverter.TokenType]
    private var ids: [String: Int]

    /// `size` is config.json's vocab_size: ids without a token become "[PAD<id>]", type UNUSED.
    init(tokenizerJSON url: URL, size: Int) throws {
        let t = try BertGGUFConverter.json(url)
        let model = t["model"] as? [String: Any] ?? [:]
        let normalizer = t["normalizer"] as? [String: Any] ?? [:]
        let post = t["post_processor"] as? [String: Any] ?? [:]
        let single = (post["single"] as? [[String: Any]] ?? []).map { entry -> String in
            if let s = entry["SpecialToken"] as? [String: Any] { return s["id"] as? String ?? "?" }
            return (entry["Sequence"] as? [String: Any])?["id"] as? String ?? "?"
        }
        guard model["type"] as? String == "WordPiece", model["continuing_subword_prefix"] as? String == "##",
              normalizer["type"] as? String == "BertNormalizer", normalizer["lowercase"] as? Bool == true,
              post["type"] as? String == "TemplateProcessing", single == ["[CLS]", "A", "[SEP]"],
              let vocab = model["vocab"] as? [String: Int] else {
            throw ModelError.badSourceModel(path: url.path, reason: "not an uncased WordPiece tokenizer with a [CLS] A [SEP] template")
        }
        var tokens = (0..<size).map { "[PAD\($0)]" }
        var types = [BertGGUFConverter.TokenType](repeating: .unused, count: size)
        for (token, id) in vocab {
            guard (0..<size).contains(id) else {
                throw ModelError.badSourceModel(path: url.path, reason: "token id \(id) is outside vocab_size \(size)")
            }
            tokens[id] = token
            types[id] = .normal
        }
        for added in t["added_tokens"] as? [[String: Any]] ?? [] {
            guard let id = added["id"] as? Int, let content = added["content"] as? String, (0..<size).contains(id) else { continue }
            tokens[id] = content
            types[id] = added["special"] as? Bool == true ? .control : .normal
        }
        self.tokens = tokens
        self.types = types
        ids = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func id(of token: String) throws -> UInt32 {
        guard let id = ids[token] else {
            throw ModelError.badSourceModel(path: "tokenizer.json", reason: "no \(token) token")
        }
        return UInt32(id)
    }

    /// llama.cpp's WordPiece form: continuation pieces lose "##", word starts gain "▁" (U+2581), control tokens stay.
    var phantomTokens: [String] {
        zip(tokens, types).map { token, type in
            if type == .control { return token }
            if token.hasPrefix("##") { return String(token.dropFirst(2)) }
            return "\u{2581}" + token
        }
    }
}
