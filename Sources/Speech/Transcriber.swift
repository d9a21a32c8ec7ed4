import CWhisper
import Foundation
import Media

/// Settings for a `Transcriber`.
public struct TranscriberOptions: Sendable, Equatable {
    /// CPU threads whisper uses (2: the machine's cores).
    public var threads: Int = 2
    /// ISO 639-1 code, or nil to detect per clip. English-only models always use "en".
    public var language: String? = nil
    /// A segment whose no-speech probability is above this is dropped unless the gate heard clear speech
    /// under most of it.
    public var noSpeechThreshold: Double = 0.6
    /// The energy gate in front of whisper.
    public var gate = SpeechGate()
    /// Longest block handed to whisper at once when transcribing a file. whisper slides its own 30 s window
    /// across a block, as its CLI does over a whole file. Cutting the audio into 30 s clips instead costs an
    /// extra encoder pass at most clip ends (whisper re-reads an unfinished last sentence), measured at 5
    /// passes instead of 3 on 65 s of speech. Memory is 64 KB per second of block: 7.5 MB for 120 s.
    public var clipSeconds: Double = 120

    public init(threads: Int = 2, language: String? = nil) {
        self.threads = threads
        self.language = language
    }
}

/// Speech to text with whisper.cpp, in-process. One actor per loaded model: calls are serialised, because a
/// whisper context runs one inference at a time.
///
///     let t = try Transcriber(modelPath: ModelCatalog.path(for: .whisperBase).path, name: "whisper-base")
///     let transcript = try await t.transcribe(file: url)
///
/// Hallucination control, in order: the energy gate (silent clips never reach whisper), whisper's own
/// non-speech token suppression, dropping segments with a high no-speech probability or outside any gated
/// region, dropping bracketed sound descriptions ("[Music]", "♪"), and dropping repeats of the previous
/// segment.
public actor Transcriber {
    public nonisolated let model: WhisperModel
    public nonisolated let name: String
    public nonisolated let options: TranscriberOptions
    private nonisolated let inferenceQueue = DispatchQueue(label: "recap.whisper.inference")

    public init(model: WhisperModel, name: String, options: TranscriberOptions = TranscriberOptions()) {
        self.model = model
        self.name = name
        self.options = options
    }

    public init(modelPath: String, name: String, options: TranscriberOptions = TranscriberOptions()) throws {
        self.init(model: try WhisperModel(path: modelPath), name: name, options: options)
    }

    /// Transcribes a clip of 16 kHz mono samples. Times in the result are `startTime` + offset in the clip.
    /// Clips up to 30 s are one whisper window; longer ones are windowed by whisper itself (prefer
    /// `transcribe(file:)` or `transcribe(clips:)` for long audio: they bound memory).
    public func transcribe(samples: [Float], startTime: Double = 0) async throws -> Transcript {
        let duration = Double(samples.count) / 16000
        var previous: String? = nil
        let (segments, language) = try await recognise(samples, startTime: startTime, language: options.language,
                                                       previous: &previous)
        return Transcript(language: language, segments: segments, duration: duration, model: name)
    }

    /// Transcribes a sequence of clips (e.g. Media's `AudioChunker` output), one whisper call per clip,
    /// keeping only one clip in memory. The language is the one detected most often in clips with speech.
    /// `language` (an ISO 639-1 code) overrides the options' for this call.
    public func transcribe<S: AsyncSequence>(clips: S, language: String? = nil) async throws -> Transcript where S.Element == AudioClip {
        var all: [TranscriptSegment] = []
        var votes: [String: Int] = [:]
        var end = 0.0
        var previous: String? = nil
        // Detecting the language costs an extra encoder pass: do it until one clip has speech, then keep it.
        var fixed = language ?? options.language
        for try await clip in clips {
            try Task.checkCancellation()
            end = max(end, clip.endTime)
            let (segments, language) = try await recognise(clip.samples, startTime: clip.startTime, language: fixed,
                                                           previous: &previous)
            if let language, !segments.isEmpty {
                votes[language, default: 0] += segments.count
                fixed = fixed ?? language
            }
            all += segments
        }
        let language = votes.max { $0.value < $1.value }?.key
        return Transcript(language: language, segments: all, duration: end, model: name)
    }

    /// Transcribes the audio of a media file, streamed through FFmpeg in clips of at most `clipSeconds`
    /// cut at quiet points. A file without an audio stream gives an empty transcript.
    public func transcribe(file url: URL) async throws -> Transcript {
        guard let stream = try AudioStream.open(url: url, sampleRate: 16000, chunkDuration: 1) else {
            return Transcript(language: nil, segments: [], duration: 0, model: name)
        }
        let chunker = AudioChunker(maxClipDuration: options.clipSeconds, searchWindow: 5, sampleRate: 16000)
        return try await transcribe(clips: chunker.clips(from: stream))
    }

    // MARK: one clip

    private func recognise(_ samples: [Float], startTime: Double, language: String?, previous: inout String?)
        async throws -> ([TranscriptSegment], String?) {
        let regions = options.gate.regions(in: samples)
        if regions.isEmpty { return ([], nil) }  // silence: whisper never sees it

        let raw = try await run(samples, language: language)
        var kept: [TranscriptSegment] = []
        for s in raw.segments {
            let text = Self.clean(s.text)
            if text.isEmpty { continue }
            let span = s.start...max(s.start, s.end)
            let heard = SpeechGate.overlap(span, regions)
            let length = max(0.01, span.upperBound - span.lowerBound)
            if heard <= 0 { continue }  // nothing audible there: invented
            // whisper's own rule (no speech and unsure of the words), and a stricter one where the gate heard
            // little under the segment.
            if s.noSpeech > options.noSpeechThreshold && (s.avgLogprob < -1 || heard / length < 0.5) { continue }
            let key = Self.normalised(text)
            if key == previous { continue }  // whisper's loop: the same line again
            previous = key
            // Snap the edges to the audible speech under the segment: whisper tends to start a segment at the
            // end of the previous one, silence included.
            // Only regions mostly inside the segment count: a neighbour's onset it merely grazes does not.
            let touching = regions.filter { r in
                let shared = SpeechGate.overlap(span, [r])
                return shared >= 0.5 * (r.upperBound - r.lowerBound) || shared >= 0.5 * length
            }
            let start = max(s.start, touching.first?.lowerBound ?? s.start)
            let end = min(s.end, touching.last?.upperBound ?? s.end)
            kept.append(TranscriptSegment(start: startTime + start, end: startTime + max(start, end), text: text,
                                          noSpeechProbability: s.noSpeech))
        }
        return (kept, kept.isEmpty ? nil : raw.language)
    }

    struct RawSegment { var start, end: Double; var text: String; var noSpeech: Double; var avgLogprob: Double }

    /// One whisper_full call. Cancellation of the calling task aborts whisper between graph computations.
    ///
    /// The inference runs on `inferenceQueue`, not on the actor's thread: it takes seconds, and blocking one of
    /// the cooperative pool's threads (two on a 2-core machine) would starve everything else in the process:
    /// lease heartbeats, HTTP clients, the progress bar. The queue is serial, so the context still runs one
    /// inference at a time even when the actor is re-entered while this call awaits.
    private func run(_ samples: [Float], language requested: String?) async throws -> (segments: [RawSegment], language: String?) {
        let model = self.model, options = self.options
        let flag = CancelFlag()
        let language = model.isMultilingual ? (requested ?? "auto") : "en"
        return try await withTaskCancellationHandler {
            try Task.checkCancellation()
            return try await withCheckedThrowingContinuation { continuation in
                inferenceQueue.async {
                    continuation.resume(with: Result {
                        try Self.infer(model: model, options: options, samples: samples, language: language, flag: flag)
                    })
                }
            }
        } onCancel: {
            flag.set()
        }
    }

    private static func infer(model: WhisperModel, options: TranscriberOptions, samples: [Float], language: String,
                              flag: CancelFlag) throws -> (segments: [RawSegment], language: String?) {
        let code: Int32 = language.withCString { lang -> Int32 in
            var p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY)
            p.n_threads = Int32(options.threads)
            p.no_context = true
            p.print_progress = false
            p.print_realtime = false
            p.print_timestamps = false
            p.print_special = false
            p.suppress_blank = true
            p.suppress_nst = true
            p.language = lang
            p.detect_language = false
            p.no_speech_thold = Float(options.noSpeechThreshold)
            p.abort_callback = { data in
                guard let data else { return false }
                return Unmanaged<CancelFlag>.fromOpaque(data).takeUnretainedValue().isSet
            }
            p.abort_callback_user_data = Unmanaged.passUnretained(flag).toOpaque()
            return withExtendedLifetime(flag) {
                samples.withUnsafeBufferPointer { whisper_full(model.context, p, $0.baseAddress, Int32($0.count)) }
            }
        }
        if flag.isSet { throw CancellationError() }
        guard code == 0 else { throw SpeechError.inferenceFailed(code: code) }

        let ctx = model.context
        var segments: [RawSegment] = []
        let eot = whisper_token_eot(ctx)
        for i in 0..<whisper_full_n_segments(ctx) {
            // Mean log-probability of the segment's text tokens (special and timestamp tokens excluded).
            var sum = 0.0, n = 0
            for j in 0..<whisper_full_n_tokens(ctx, i) {
                let token = whisper_full_get_token_data(ctx, i, j)
                if token.id < eot { sum += Double(token.plog); n += 1 }
            }
            segments.append(RawSegment(
                start: Double(whisper_full_get_segment_t0(ctx, i)) / 100,
                end: Double(whisper_full_get_segment_t1(ctx, i)) / 100,
                text: String(cString: whisper_full_get_segment_text(ctx, i)),
                noSpeech: Double(whisper_full_get_segment_no_speech_prob(ctx, i)),
                avgLogprob: n > 0 ? sum / Double(n) : 0))
            if ProcessInfo.processInfo.environment["RECAP_SPEECH_DEBUG"] == "1" {
                let r = segments[segments.count - 1]
                FileHandle.standardError.write(Data("whisper: [\(r.start)-\(r.end)] nsp=\(r.noSpeech) lp=\(r.avgLogprob) \(r.text)\n".utf8))
            }
        }
        if WhisperLog.enabled {
            whisper_print_timings(ctx)  // per call, through whisper's logger
            whisper_reset_timings(ctx)
        }
        let id = whisper_full_lang_id(ctx)
        let lang = id >= 0 ? whisper_lang_str(id).map { String(cString: $0) } : nil
        return (segments, lang)
    }

    // MARK: text filters

    /// Trims, and removes sound descriptions whisper writes for non-speech: "[Music]", "(applause)", "♪".
    static func clean(_ text: String) -> String {
        var t = text
        for (open, close) in [("[", "]"), ("(", ")"), ("*", "*")] {
            while let a = t.range(of: open), let b = t.range(of: close, range: a.upperBound..<t.endIndex) {
                t.removeSubrange(a.lowerBound..<b.upperBound)
            }
        }
        t = t.replacingOccurrences(of: "♪", with: "").replacingOccurrences(of: "♫", with: "")
        t = t.trimmingCharacters(in: .whitespacesAndNewlines)
        // Nothing but punctuation left ("...", "-") is not speech either.
        return t.unicodeScalars.contains(where: CharacterSet.alphanumerics.contains) ? t : ""
    }

    static func normalised(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter(CharacterSet.alphanumerics.contains))
    }
}

/// Set from the cancellation handler, read by whisper's abort callback on its own thread.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
