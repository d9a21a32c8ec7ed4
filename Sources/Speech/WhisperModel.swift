import CWhisper
import Foundation

/// A loaded whisper.cpp model (a `whisper_context`). The pointer never leaves this type; `deinit` frees it.
/// whisper.cpp allows one inference at a time per context, so `Transcriber` (an actor) is its only user
/// during transcription.
public final class WhisperModel: @unchecked Sendable {
    let context: OpaquePointer
    public let path: String
    /// Where every inference on this context runs: serial, because a context runs one at a time, and owned by
    /// the model so two transcribers sharing it (e.g. one translating) still take turns.
    let queue = DispatchQueue(label: "recap.whisper.inference")

    /// Loads a ggml Whisper model (CPU only).
    /// - Throws: `SpeechError.modelLoadFailed` naming the file.
    public init(path: String) throws {
        WhisperLog.silenceByDefault()
        guard FileManager.default.isReadableFile(atPath: path) else { throw SpeechError.modelLoadFailed(path: path) }
        var params = whisper_context_default_params()
        params.use_gpu = false
        params.flash_attn = true  // as whisper-cli's default: ~10% less encoder time on the CPU, same text
        guard let ctx = whisper_init_from_file_with_params(path, params) else {
            throw SpeechError.modelLoadFailed(path: path)
        }
        context = ctx
        self.path = path
    }

    deinit { whisper_free(context) }

    /// True for multilingual models (base), false for English-only ones (tiny.en).
    public var isMultilingual: Bool { whisper_is_multilingual(context) != 0 }

    /// The model type, e.g. "base" or "tiny".
    public var typeName: String { String(cString: whisper_model_type_readable(context)) }
}

/// whisper.cpp logs every load step to stderr; Recap is quiet unless RECAP_WHISPER_LOG=1.
enum WhisperLog {
    /// RECAP_WHISPER_LOG=1: whisper's own log, and its timings after each call.
    static let enabled = ProcessInfo.processInfo.environment["RECAP_WHISPER_LOG"] == "1"

    private static let once: Void = {
        if !enabled {
            whisper_log_set({ _, _, _ in }, nil)
        }
    }()

    static func silenceByDefault() { _ = once }
}

/// whisper.cpp's own description of the CPU features it was built with (for diagnostics).
public func whisperSystemInfo() -> String { String(cString: whisper_print_system_info()) }
