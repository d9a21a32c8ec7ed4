import CWhisper
import Foundation

/// Silero VAD through whisper.cpp's public VAD API: where in a clip someone speaks. The context pointer
/// never leaves this type; `deinit` frees it.
///
/// Recap runs VAD itself (instead of `whisper_full_params.vad`) for three reasons found in whisper.cpp
/// 1.8.5: its built-in VAD uses a fixed 4 threads (slow and spinning on a 2-core machine, while one thread
/// runs at ~100× real time), token times are not mapped back to the original clock with it, and language
/// detection would still look at the clip's first 30 s, music included.
public final class VoiceActivity: @unchecked Sendable {
    private let context: OpaquePointer
    private let lock = NSLock()  // a VAD context keeps LSTM state: one detection at a time
    public let path: String
    public var parameters: Parameters

    /// Detection settings (whisper.cpp's `whisper_vad_params`), in seconds.
    public struct Parameters: Sendable, Equatable {
        /// Probability above which a 32 ms window counts as speech.
        public var threshold: Float = 0.5
        /// Shorter bursts are not speech (a cough, a click).
        public var minSpeech: Double = 0.25
        /// A pause must last this long to end a region; shorter ones stay inside it.
        public var minSilence: Double = 0.3
        /// Kept on both sides of a region so onsets and tails are not clipped.
        public var pad: Double = 0.25
        public init() {}
    }

    /// Loads a Silero VAD ggml file (`recap models install silero-vad`). One thread: it is ~100× real time.
    /// - Throws: `SpeechError.modelLoadFailed` naming the file.
    public init(path: String, parameters: Parameters = Parameters()) throws {
        WhisperLog.silenceByDefault()
        guard FileManager.default.isReadableFile(atPath: path) else { throw SpeechError.modelLoadFailed(path: path) }
        var params = whisper_vad_default_context_params()
        params.n_threads = 1
        params.use_gpu = false
        guard let ctx = whisper_vad_init_from_file_with_params(path, params) else {
            throw SpeechError.modelLoadFailed(path: path)
        }
        context = ctx
        self.path = path
        self.parameters = parameters
    }

    deinit { whisper_vad_free(context) }

    /// Speech regions of 16 kHz mono `samples`, in seconds from the clip's start, in order.
    public func speech(in samples: [Float]) throws -> [ClosedRange<Double>] {
        guard samples.count >= 512 else { return [] }  // shorter than one VAD window
        var p = whisper_vad_default_params()
        p.threshold = parameters.threshold
        p.min_speech_duration_ms = Int32(parameters.minSpeech * 1000)
        p.min_silence_duration_ms = Int32(parameters.minSilence * 1000)
        p.speech_pad_ms = Int32(parameters.pad * 1000)
        p.max_speech_duration_s = .greatestFiniteMagnitude
        return try lock.withLock {
            if ProcessInfo.processInfo.environment["RECAP_VAD_DEBUG"] == "1",
               samples.withUnsafeBufferPointer({ whisper_vad_detect_speech(context, $0.baseAddress, Int32($0.count)) }) {
                let n = Int(whisper_vad_n_probs(context)), probs = whisper_vad_probs(context)!
                let perSecond = 16000 / 512
                let line = stride(from: 0, to: n, by: perSecond).map { a in
                    String(format: "%.2f", (a..<min(n, a + perSecond)).map { Double(probs[$0]) }.reduce(0, +) / Double(min(n, a + perSecond) - a))
                }.joined(separator: " ")
                FileHandle.standardError.write(Data("vad: \(line)\n".utf8))
            }
            let found = samples.withUnsafeBufferPointer {
                whisper_vad_segments_from_samples(context, p, $0.baseAddress, Int32($0.count))
            }
            guard let found else { throw SpeechError.vadFailed }
            defer { whisper_vad_free_segments(found) }
            let total = Double(samples.count) / 16000
            return (0..<whisper_vad_segments_n_segments(found)).compactMap { i in
                // whisper.cpp reports these in centiseconds.
                let a = max(0, Double(whisper_vad_segments_get_segment_t0(found, i)) / 100)
                let b = min(total, Double(whisper_vad_segments_get_segment_t1(found, i)) / 100)
                return b > a ? a...b : nil
            }
        }
    }
}
