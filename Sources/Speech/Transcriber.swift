import CWhisper
import Foundation
import Media

/// Settings for a `Transcriber`.
public struct TranscriberOptions: Sendable, Equatable {
    /// CPU threads whisper uses (2: the machine's cores).
    public var threads: Int = 2
    /// ISO 639-1 code, or nil to detect per clip. English-only models always use "en".
    public var language: String? = nil
    /// A segment whose no-speech probability is above this, and whose words whisper is unsure of, is dropped.
    public var noSpeechThreshold: Double = 0.6
    /// The energy gate in front of whisper when no VAD model is loaded.
    public var gate = SpeechGate()
    /// Also give the speech in English (whisper's translate task; multilingual models only).
    public var translate = false
    /// Longest block handed to whisper at once when transcribing a file. whisper slides its own 30 s window
    /// across a block, as its CLI does over a whole file. Cutting the audio into 30 s clips instead costs an
    /// extra encoder pass at most clip ends (whisper re-reads an unfinished last sentence), measured at 5
    /// passes instead of 3 on 65 s of speech. Memory is 64 KB per second of block: 7.5 MB for 120 s.
    public var clipSeconds: Double = 120

    public init(threads: Int = 2, language: String? = nil, translate: Bool = false) {
        self.threads = threads
        self.language = language
        self.translate = translate
    }
}

/// Speech to text with whisper.cpp, in-process. One actor per loaded model: calls are serialised, because a
/// whisper context runs one inference at a time.
///
///     let vad = try VoiceActivity(path: ModelCatalog.path(for: .sileroVAD).path)
///     let t = try Transcriber(modelPath: ModelCatalog.path(for: .whisperBase).path, name: "whisper-base", vad: vad)
///     let transcript = try await t.transcribe(file: url)
///
/// How a clip is heard: Silero VAD finds the speech; only speech reaches whisper, packed into ~30 s batches
/// (`SpeechBatch`), so music, noise and silence cannot be turned into words and cost no decoding. The language
/// is detected on the first speech windows, not on whatever the file starts with. Every time (segments and
/// words) is mapped back to the file's clock. Then the last guards: whisper's no-speech rule, bracketed sound
/// descriptions ("[Music]", "♪") removed, and a line repeated by whisper's loop dropped.
/// Without a VAD model the energy gate (`SpeechGate`) stands in; it cannot tell music from speech.
public actor Transcriber {
    public nonisolated let model: WhisperModel
    public nonisolated let name: String
    public nonisolated let options: TranscriberOptions
    public nonisolated let vad: VoiceActivity?
    /// Tells speakers apart when given (`speaker` on segments and words); nil: no speaker labels.
    public nonisolated let voices: VoiceEncoder?

    public init(model: WhisperModel, name: String, vad: VoiceActivity? = nil, voices: VoiceEncoder? = nil,
                options: TranscriberOptions = TranscriberOptions()) {
        self.model = model
        self.name = name
        self.vad = vad
        self.voices = voices
        self.options = options
    }

    public init(modelPath: String, name: String, vad: VoiceActivity? = nil, voices: VoiceEncoder? = nil,
                options: TranscriberOptions = TranscriberOptions()) throws {
        self.init(model: try WhisperModel(path: modelPath), name: name, vad: vad, voices: voices, options: options)
    }

    /// Transcribes a clip of 16 kHz mono samples. Times in the result are `startTime` + offset in the clip.
    public func transcribe(samples: [Float], startTime: Double = 0) async throws -> Transcript {
        var state = State(fixed: model.isMultilingual ? options.language : "en")
        try await hear(samples, startTime: startTime, state: &state)
        return state.transcript(name: name, duration: startTime + Double(samples.count) / 16000, translate: options.translate)
    }

    /// Transcribes a sequence of clips (e.g. Media's `AudioChunker` output), keeping only one clip in memory.
    /// `language` (an ISO 639-1 code) overrides the options' for this call. `prompt` is whisper's initial prompt
    /// for every window: words the audio is likely to hold (names on the slides), spelled as they should be.
    public func transcribe<S: AsyncSequence>(clips: S, language: String? = nil, prompt: String? = nil) async throws -> Transcript where S.Element == AudioClip {
        var state = State(fixed: model.isMultilingual ? language ?? options.language : "en")
        state.prompt = prompt
        var end = 0.0
        for try await clip in clips {
            try Task.checkCancellation()
            end = max(end, clip.endTime)
            try await hear(clip.samples, startTime: clip.startTime, state: &state)
        }
        return state.transcript(name: name, duration: end, translate: options.translate)
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

    /// What a file's transcription gathers clip after clip.
    struct State {
        /// The language given by the caller; nil: detect.
        var fixed: String?
        /// Whisper's initial prompt (nil: none).
        var prompt: String?
        /// Summed detection probabilities per language, and how many windows were looked at.
        var votes: [String: Double] = [:]
        var detections = 0
        var segments: [TranscriptSegment] = []
        var translation: [TranscriptSegment] = []
        var timeline: [AudioSpan] = []
        var previous: String? = nil
        /// The voice of each segment (nil when too short to tell), for speaker labels.
        var voices: [[Float]?] = []

        /// The language to transcribe in now: the caller's, else the leader of the votes so far.
        var language: String? { fixed ?? votes.max { $0.value < $1.value }?.key }

        func transcript(name: String, duration: Double, translate: Bool) -> Transcript {
            let spoken = segments.isEmpty ? nil : language
            let probability = fixed == nil && detections > 0 ? spoken.flatMap { votes[$0] }.map { ($0 / Double(detections) * 1000).rounded() / 1000 } : nil
            var segments = self.segments
            if voices.count == segments.count, voices.contains(where: { $0 != nil }) {
                for (i, label) in SpeakerLabels.assign(voices, durations: segments.map { $0.end - $0.start }).enumerated() {
                    segments[i].speaker = label
                    segments[i].words = segments[i].words?.map { var w = $0; w.speaker = label; return w }
                }
            }
            return Transcript(language: spoken, segments: segments, duration: duration, model: name,
                              languageProbability: probability, translation: translate ? translation : nil,
                              timeline: AudioTimeline.merge(timeline))
        }
    }

    /// How many speech windows the language is detected on (each costs one encoder pass).
    static let languageWindows = 3

    private func hear(_ samples: [Float], startTime: Double, state: inout State) async throws {
        let regions: [ClosedRange<Double>]
        if let vad { regions = try await onQueue { try vad.speech(in: samples) } } else { regions = options.gate.regions(in: samples) }
        state.timeline += AudioTimeline.spans(samples: samples, speech: regions, offset: startTime)
        for batch in SpeechBatch.plan(regions, in: samples) {
            try Task.checkCancellation()
            if model.isMultilingual && state.fixed == nil && state.detections < Self.languageWindows {
                let call = whisperCall()
                let probs = try await onQueue { try call.detectLanguage(batch.samples) }
                for (code, p) in probs { state.votes[code, default: 0] += p }
                state.detections += 1
            }
            let language = model.isMultilingual ? (state.language ?? "en") : "en"
            let raw = try await run(batch.samples, language: language, translate: false, prompt: state.prompt)
            let kept = keep(raw, batch: batch, startTime: startTime, previous: &state.previous)
            state.segments += kept
            if let voices {
                state.voices += try await onQueue {
                    kept.map { s -> [Float]? in
                        let a = max(0, Int((s.start - startTime) * 16000)), b = min(samples.count, Int((s.end - startTime) * 16000))
                        return b > a ? voices.embed(Array(samples[a..<b])) : nil
                    }
                }
            }
            if options.translate && model.isMultilingual {
                if language == "en" {
                    state.translation += keep(raw, batch: batch, startTime: startTime, previous: &state.previous, repeats: false)
                } else {
                    var none: String? = nil
                    let english = try await run(batch.samples, language: language, translate: true, prompt: nil)
                    state.translation += keep(english, batch: batch, startTime: startTime, previous: &none)
                }
            }
        }
    }

    /// whisper's segments in the file's clock, minus what is not speech.
    private func keep(_ raw: [WhisperCall.Segment], batch: SpeechBatch, startTime: Double, previous: inout String?,
                      repeats: Bool = true) -> [TranscriptSegment] {
        var kept: [TranscriptSegment] = []
        let snap = WordSnap(samples: batch.samples)
        for s in raw {
            let text = Self.clean(s.text)
            if text.isEmpty { continue }
            // whisper's own rule: no speech and unsure of the words.
            if s.noSpeech > options.noSpeechThreshold && s.avgLogprob < -1 { continue }
            // What whisper writes when it hears no words it knows (its training's video outros), unsure of it:
            // seen on a tremolo melody that Silero took for singing.
            if Self.stockPhrases.contains(Self.normalised(text)) && s.avgLogprob < -0.5 { continue }
            let key = Self.normalised(text)
            if repeats && key == previous { continue }  // whisper's loop: the same line again
            if repeats { previous = key }
            let time = { (t: Double) in ((startTime + batch.clipTime(t)) * 1000).rounded() / 1000 }
            var words = snap.snap(Self.spoken(s.words)).map { w in
                TimedWord(start: time(w.start), end: time(max(w.start, w.end)), text: w.text.trimmingCharacters(in: .whitespaces),
                          probability: w.probability)
            }
            words = Self.monotonic(words)
            // Segment edges from the words when there are any: whisper's segment start often includes the
            // silence before the first word.
            let start = words.first?.start ?? time(s.start), end = max(start, words.last?.end ?? time(s.end))
            kept.append(TranscriptSegment(start: start, end: end, text: text, noSpeechProbability: s.noSpeech,
                                          words: words.isEmpty ? nil : words))
        }
        return kept
    }

    /// whisper.cpp's token times can step back a little at word joins; players and aligners want order.
    static func monotonic(_ words: [TimedWord]) -> [TimedWord] {
        var out = words
        for i in out.indices {
            if i > 0 { out[i].start = max(out[i].start, out[i - 1].end) }
            out[i].end = max(out[i].end, out[i].start)
        }
        return out
    }

    /// The words that are speech: sound descriptions in brackets and music signs are left out, as in `clean`.
    static func spoken(_ words: [TimedWord]) -> [TimedWord] {
        var out: [TimedWord] = []
        var depth = 0
        for w in words {
            let t = w.text.trimmingCharacters(in: .whitespaces)
            let opens = t.filter { "[(".contains($0) }.count, closes = t.filter { "])".contains($0) }.count
            let inside = depth > 0 || opens > 0
            depth = max(0, depth + opens - closes)
            if inside || clean(t).isEmpty { continue }
            out.append(w)
        }
        return out
    }

    private func whisperCall(translate: Bool = false) -> WhisperCall {
        WhisperCall(model: model, threads: options.threads, noSpeechThreshold: options.noSpeechThreshold, translate: translate)
    }

    /// Runs `work` on the inference queue, not on the actor's thread: it takes seconds, and blocking one of the
    /// cooperative pool's threads (two on a 2-core machine) would starve everything else in the process:
    /// lease heartbeats, HTTP clients, the progress bar. The queue is serial, so the context still runs one
    /// inference at a time even when the actor is re-entered while this call awaits.
    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            model.queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// One whisper_full call. Cancellation of the calling task aborts whisper between graph computations.
    private func run(_ samples: [Float], language: String, translate: Bool, prompt: String?) async throws -> [WhisperCall.Segment] {
        let call = whisperCall(translate: translate)
        let flag = CancelFlag()
        return try await withTaskCancellationHandler {
            try Task.checkCancellation()
            return try await onQueue { try call.transcribe(samples, language: language, prompt: prompt, cancel: flag) }
        } onCancel: {
            flag.set()
        }
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

    /// Whisper's best-known inventions over music and noise, normalised.
    static let stockPhrases: Set<String> = Set([
        "Thank you.", "Thanks for watching!", "Thank you for watching.", "Thank you for watching this video.",
        "Please subscribe.", "Subscribe to my channel.", "Like and subscribe.", "You can see the video description below.",
        "See you in the next video.", "See you next time.", "Subtitles by the Amara.org community", "Bye.", "You",
        "Thank you very much.", "I'll see you next time.", "Please like and subscribe.",
    ].map(normalised))

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
