import CWhisper
import Foundation

/// One whisper_full call on a buffer of 16 kHz mono samples, and what came back: segments with their words,
/// times in the buffer's clock (seconds). Runs on the caller's thread: `Transcriber` keeps it off the
/// cooperative pool.
struct WhisperCall: Sendable {
    struct Segment {
        var start, end: Double
        var text: String
        var noSpeech: Double
        var avgLogprob: Double
        var words: [TimedWord]
    }

    var model: WhisperModel
    var threads: Int
    var noSpeechThreshold: Double
    var translate = false

    /// The language probabilities whisper gives the first 30 s of `samples` (one encoder pass), e.g.
    /// ["en": 0.97, "de": 0.01, …], only the ones above 0.1 %.
    func detectLanguage(_ samples: [Float]) throws -> [String: Double] {
        let ctx = model.context
        let threads = CPUBudget.threads(upTo: self.threads)
        let ok = samples.withUnsafeBufferPointer { whisper_pcm_to_mel(ctx, $0.baseAddress, Int32($0.count), Int32(threads)) }
        guard ok == 0 else { throw SpeechError.inferenceFailed(code: ok) }
        var probs = [Float](repeating: 0, count: Int(whisper_lang_max_id()) + 1)
        let id = whisper_lang_auto_detect(ctx, 0, Int32(threads), &probs)
        guard id >= 0 else { throw SpeechError.inferenceFailed(code: id) }
        var out: [String: Double] = [:]
        for (i, p) in probs.enumerated() where p > 0.001 {
            if let code = whisper_lang_str(Int32(i)) { out[String(cString: code)] = Double(p) }
        }
        return out
    }

    /// Transcribes `samples` in `language` (an ISO 639-1 code; English-only models ignore it), with `prompt` as
    /// whisper's initial prompt (it conditions the spelling of names; whisper keeps its last 224 tokens).
    func transcribe(_ samples: [Float], language: String, prompt: String? = nil, cancel: CancelFlag) throws -> [Segment] {
        let threads = CPUBudget.threads(upTo: self.threads)
        if ProcessInfo.processInfo.environment["RECAP_SPEECH_DEBUG"] == "1" {
            FileHandle.standardError.write(Data("whisper: \(threads) of \(self.threads) threads for \(samples.count / 16000) s\n".utf8))
        }
        let code: Int32 = language.withCString { lang -> Int32 in (prompt ?? "").withCString { promptText -> Int32 in
            var p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY)
            if let prompt, !prompt.isEmpty { p.initial_prompt = promptText }
            p.n_threads = Int32(threads)
            p.no_context = true
            p.print_progress = false
            p.print_realtime = false
            p.print_timestamps = false
            p.print_special = false
            p.suppress_blank = true
            p.suppress_nst = true
            p.language = lang
            p.detect_language = false
            p.translate = translate
            p.token_timestamps = true  // word times: whisper's timestamp-token heuristic (DTW needs flash attention off)
            p.no_speech_thold = Float(noSpeechThreshold)
            p.abort_callback = { data in
                guard let data else { return false }
                return Unmanaged<CancelFlag>.fromOpaque(data).takeUnretainedValue().isSet
            }
            p.abort_callback_user_data = Unmanaged.passUnretained(cancel).toOpaque()
            return withExtendedLifetime(cancel) {
                samples.withUnsafeBufferPointer { whisper_full(model.context, p, $0.baseAddress, Int32($0.count)) }
            }
        } }
        if cancel.isSet { throw CancellationError() }
        guard code == 0 else { throw SpeechError.inferenceFailed(code: code) }

        let ctx = model.context
        let eot = whisper_token_eot(ctx)
        var segments: [Segment] = []
        for i in 0..<whisper_full_n_segments(ctx) {
            var sum = 0.0, n = 0
            var words: [TimedWord] = []
            var probabilities: [Double] = []
            for j in 0..<whisper_full_n_tokens(ctx, i) {
                let token = whisper_full_get_token_data(ctx, i, j)
                guard token.id < eot else { continue }  // special and timestamp tokens
                sum += Double(token.plog); n += 1
                let piece = String(cString: whisper_full_get_token_text(ctx, i, j))
                let t0 = Double(token.t0) / 100, t1 = Double(max(token.t0, token.t1)) / 100
                // A token that starts with a space starts a word; the rest (sub-words, punctuation) extend it.
                if words.isEmpty || piece.hasPrefix(" ") {
                    words.append(TimedWord(start: t0, end: t1, text: piece))
                    probabilities = [Double(token.p)]
                } else {
                    words[words.count - 1].text += piece
                    words[words.count - 1].end = max(words[words.count - 1].end, t1)
                    probabilities.append(Double(token.p))
                }
                words[words.count - 1].probability = (probabilities.reduce(0, +) / Double(probabilities.count) * 1000).rounded() / 1000
            }
            segments.append(Segment(
                start: Double(whisper_full_get_segment_t0(ctx, i)) / 100,
                end: Double(whisper_full_get_segment_t1(ctx, i)) / 100,
                text: String(cString: whisper_full_get_segment_text(ctx, i)),
                noSpeech: Double(whisper_full_get_segment_no_speech_prob(ctx, i)),
                avgLogprob: n > 0 ? sum / Double(n) : 0,
                words: words))
            if ProcessInfo.processInfo.environment["RECAP_SPEECH_DEBUG"] == "1" {
                let r = segments[segments.count - 1]
                FileHandle.standardError.write(Data("whisper: [\(r.start)-\(r.end)] nsp=\(r.noSpeech) lp=\(r.avgLogprob) \(r.text)\n".utf8))
            }
        }
        if WhisperLog.enabled {
            whisper_print_timings(ctx)  // per call, through whisper's logger
            whisper_reset_timings(ctx)
        }
        return segments
    }
}
