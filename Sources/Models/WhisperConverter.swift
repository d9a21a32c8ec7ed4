import Foundation

/// Converts a CTranslate2 Whisper model (`model.bin` + `vocabulary.txt`, as faster-whisper ships them) into
/// whisper.cpp's ggml model file, the format `whisper_init_from_file` reads:
///
///   u32 magic "ggml", 11 × i32 hyper-parameters (n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
///   n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype = 1 for f16),
///   i32 n_mel, i32 n_fft, the mel filterbank as f32, i32 token count, each token as i32 length + bytes,
///   then tensors: i32 n_dims, i32 name length, i32 type (0 f32, 1 f16), i32 × n_dims dims (fastest first),
///   the name, the data.
///
/// What CTranslate2 changed and we undo: query/key/value fused into one `linear_0` for self-attention
/// (key has no bias in Whisper: its slot in the fused bias is dropped), key/value fused into `linear_1`
/// of cross-attention, `gamma`/`beta` for layer norms, `position_encodings/encodings` for the positional
/// embeddings, and a flat naming (`encoder/layer_0/ffn/linear_0`). Weights stay f16 byte for byte;
/// biases, norms, conv biases and positional embeddings become f32 as whisper.cpp's loader expects.
public enum WhisperConverter {
    public struct Summary: Sendable, Equatable {
        public var bytesWritten: Int
        public var tensors: Int
        public var vocabularyTokens: Int
        public var audioLayers: Int
        public var textLayers: Int
        public var multilingual: Bool
    }

    /// Writes `output` (atomically: a temporary file beside it, then a rename).
    public static func convert(model modelURL: URL, vocabulary vocabURL: URL, to output: URL) throws -> Summary {
        let model = try CTranslate2Model(url: modelURL)
        guard model.specName.contains("Whisper") else {
            throw ModelError.badSourceModel(path: modelURL.path, reason: "spec is \(model.specName), not WhisperSpec")
        }
        let tokens = try ByteLevelVocabulary.lines(of: vocabURL)

        // Hyper-parameters, read from the tensors' shapes.
        let embed = try model.variable("decoder/embeddings/weight")
        let encPos = try model.variable("encoder/position_encodings/encodings")
        let decPos = try model.variable("decoder/position_encodings/encodings")
        let conv1 = try model.variable("encoder/conv1/weight")
        func layerCount(_ side: String) -> Int {
            var n = 0
            while model.variables["\(side)/layer_\(n)/ffn/linear_0/weight"] != nil { n += 1 }
            return n
        }
        let nVocab = embed.shape[0], nState = embed.shape[1]
        let nAudioLayer = layerCount("encoder"), nTextLayer = layerCount("decoder")
        guard nAudioLayer > 0, nTextLayer > 0, conv1.shape.count == 3 else {
            throw ModelError.badSourceModel(path: modelURL.path, reason: "no encoder/decoder layers found")
        }
        let nMels = conv1.shape[1]
        let hparams: [Int] = [
            nVocab, encPos.shape[0], encPos.shape[1], try model.scalar("encoder/num_heads"), nAudioLayer,
            decPos.shape[0], nState, try model.scalar("decoder/num_heads"), nTextLayer, nMels, 1,
        ]
        // whisper.cpp's file carries the BPE tokens only (50257: GPT-2's 50256 plus one): the special
        // tokens after them are rebuilt by its loader from n_vocab. Multilingual vocabularies (≥ 51865)
        // have an empty token at 50256, English ones <|endoftext|>; both come straight from the file.
        let nBPE = 50257
        guard tokens.count >= nBPE, tokens.count <= nVocab else {
            throw ModelError.badSourceModel(path: vocabURL.path, reason: "\(tokens.count) tokens for n_vocab \(nVocab)")
        }

        let writer = try GGMLFileWriter(destination: output)
        do {
            writer.i32(0x6767_6d6c)
            for h in hparams { writer.i32(h) }
            let filters = MelFilterbank.slaney(nMels: nMels)
            writer.i32(filters.count)
            writer.i32(filters[0].count)
            for row in filters { writer.f32(row) }
            writer.i32(nBPE)
            for t in tokens.prefix(nBPE) {
                let bytes = ByteLevelVocabulary.bytes(of: t)
                writer.i32(bytes.count)
                writer.raw(bytes)
            }

            var plan = TensorPlan(model: model)
            try plan.add("encoder.positional_embedding", from: "encoder/position_encodings/encodings", f32: true)
            try plan.add("encoder.conv1.weight", from: "encoder/conv1/weight")
            try plan.add("encoder.conv1.bias", from: "encoder/conv1/bias", f32: true, shape: [nState, 1])
            try plan.add("encoder.conv2.weight", from: "encoder/conv2/weight")
            try plan.add("encoder.conv2.bias", from: "encoder/conv2/bias", f32: true, shape: [nState, 1])
            for i in 0..<nAudioLayer {
                let src = "encoder/layer_\(i)", dst = "encoder.blocks.\(i)"
                try plan.selfAttention(src + "/self_attention", dst + ".attn", ln: dst + ".attn_ln", state: nState)
                try plan.feedForward(src + "/ffn", dst)
            }
            try plan.norm("encoder.ln_post", from: "encoder/layer_norm")
            try plan.add("decoder.positional_embedding", from: "decoder/position_encodings/encodings", f32: true)
            try plan.add("decoder.token_embedding.weight", from: "decoder/embeddings/weight")
            for i in 0..<nTextLayer {
                let src = "decoder/layer_\(i)", dst = "decoder.blocks.\(i)"
                try plan.selfAttention(src + "/self_attention", dst + ".attn", ln: dst + ".attn_ln", state: nState)
                try plan.crossAttention(src + "/attention", dst + ".cross_attn", ln: dst + ".cross_attn_ln", state: nState)
                try plan.feedForward(src + "/ffn", dst)
            }
            try plan.norm("decoder.ln", from: "decoder/layer_norm")

            for t in plan.tensors { try writer.tensor(t, from: model) }
            let summary = Summary(
                bytesWritten: writer.bytesWritten, tensors: plan.tensors.count, vocabularyTokens: nBPE,
                audioLayers: nAudioLayer, textLayers: nTextLayer, multilingual: nVocab >= 51865)
            try writer.commit()
            return summary
        } catch {
            writer.abandon()
            throw error
        }
    }
}

/// One output tensor: a row range of a source variable, its ggml name, shape and type.
struct PlannedTensor {
    var name: String
    var source: CTranslate2Model.Variable
    var rows: Range<Int>  // of the source's first dimension
    var shape: [Int]      // slowest first, as PyTorch writes it
    var f32: Bool
}

/// The list of tensors to write, built with the renames and splits CTranslate2 needs undone.
struct TensorPlan {
    let model: CTranslate2Model
    var tensors: [PlannedTensor] = []

    init(model: CTranslate2Model) { self.model = model }

    mutating func add(_ name: String, from source: String, rows: Range<Int>? = nil, f32: Bool = false,
                      shape: [Int]? = nil) throws {
        let v = try model.variable(source)
        guard v.dtype == .float16 || v.dtype == .float32 else {
            throw ModelError.badSourceModel(path: model.path, reason: "\(source) is \(v.dtype), only float16/float32 are converted (quantized models are not supported)")
        }
        let r = rows ?? 0..<(v.shape.first ?? 1)
        var s = v.shape
        if !s.isEmpty { s[0] = r.count }
        // 1-D tensors, biases and norms are f32 in whisper.cpp's files.
        tensors.append(PlannedTensor(name: name, source: v, rows: r, shape: shape ?? s, f32: f32 || s.count < 2))
    }

    mutating func norm(_ dst: String, from src: String) throws {
        try add(dst + ".weight", from: src + "/gamma")
        try add(dst + ".bias", from: src + "/beta")
    }

    /// Fused [q; k; v] projection → query (weight, bias), key (weight only), value (weight, bias).
    mutating func selfAttention(_ src: String, _ dst: String, ln: String, state n: Int) throws {
        try norm(ln, from: src + "/layer_norm")
        try add(dst + ".query.weight", from: src + "/linear_0/weight", rows: 0..<n)
        try add(dst + ".query.bias", from: src + "/linear_0/bias", rows: 0..<n)
        try add(dst + ".key.weight", from: src + "/linear_0/weight", rows: n..<(2 * n))
        try add(dst + ".value.weight", from: src + "/linear_0/weight", rows: (2 * n)..<(3 * n))
        try add(dst + ".value.bias", from: src + "/linear_0/bias", rows: (2 * n)..<(3 * n))
        try add(dst + ".out.weight", from: src + "/linear_1/weight")
        try add(dst + ".out.bias", from: src + "/linear_1/bias")
    }

    /// Cross-attention: query alone in linear_0, fused [k; v] in linear_1, output in linear_2.
    mutating func crossAttention(_ src: String, _ dst: String, ln: String, state n: Int) throws {
        try norm(ln, from: src + "/layer_norm")
        try add(dst + ".query.weight", from: src + "/linear_0/weight")
        try add(dst + ".query.bias", from: src + "/linear_0/bias")
        try add(dst + ".key.weight", from: src + "/linear_1/weight", rows: 0..<n)
        try add(dst + ".value.weight", from: src + "/linear_1/weight", rows: n..<(2 * n))
        try add(dst + ".value.bias", from: src + "/linear_1/bias", rows: n..<(2 * n))
        try add(dst + ".out.weight", from: src + "/linear_2/weight")
        try add(dst + ".out.bias", from: src + "/linear_2/bias")
    }

    mutating func feedForward(_ src: String, _ dst: String) throws {
        try norm(dst + ".mlp_ln", from: src + "/layer_norm")
        try add(dst + ".mlp.0.weight", from: src + "/linear_0/weight")
        try add(dst + ".mlp.0.bias", from: src + "/linear_0/bias")
        try add(dst + ".mlp.2.weight", from: src + "/linear_1/weight")
        try add(dst + ".mlp.2.bias", from: src + "/linear_1/bias")
    }
}
