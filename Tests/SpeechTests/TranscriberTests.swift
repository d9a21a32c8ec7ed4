import Foundation
import Media
import Models
import Testing
@testable import Speech

/// Ground truth written with samples/narrated.mp4 by scripts/make-samples.sh.
struct NarrationTruth: Decodable {
    struct Sentence: Decodable { var text: String; var start: Double; var end: Double }
    var script: String
    var sentences: [Sentence]
}

/// One loaded model per process: loading base takes a moment and the suite reuses it.
enum SharedTranscribers {
    static let vad: Result<VoiceActivity, Error> = Result { try VoiceActivity(path: TestEnv.model(.sileroVAD).path) }
    static let base: Result<Transcriber, Error> = Result {
        try Transcriber(modelPath: TestEnv.model(.whisperBase).path, name: "whisper-base", vad: vad.get())
    }
    static let tinyEn: Result<Transcriber, Error> = Result {
        try Transcriber(modelPath: TestEnv.model(.whisperTinyEn).path, name: "whisper-tiny.en", vad: vad.get())
    }
    /// Base with the translate task on: the original and an English version.
    static let translating: Result<Transcriber, Error> = Result {
        try Transcriber(model: base.get().model, name: "whisper-base", vad: vad.get(), options: TranscriberOptions(translate: true))
    }
}

@Suite(.serialized) struct TranscriberTests {
    static func truth() throws -> NarrationTruth {
        try JSONDecoder().decode(NarrationTruth.self, from: Data(contentsOf: TestEnv.sample("narrated.json")))
    }

    /// WER ≤ 15 % against the script, and every segment's start and end within 1 s of the narration of the
    /// sentences it covers (found through a word alignment, so merged or split sentences are judged fairly).
    func checkNarration(_ transcriber: Transcriber, model: String) async throws {
        let truth = try Self.truth()
        let transcript = try await transcriber.transcribe(file: TestEnv.sample("narrated.mp4"))
        #expect(transcript.language == "en", "\(model): language \(transcript.language ?? "none")")
        #expect(!transcript.segments.isEmpty)

        var refWords: [String] = [], refSentence: [Int] = []
        for (k, s) in truth.sentences.enumerated() {
            let w = WordAlignment.words(s.text)
            refWords += w
            refSentence += Array(repeating: k, count: w.count)
        }
        #expect(refWords == WordAlignment.words(truth.script))
        var hypWords: [String] = [], hypSegment: [Int] = []
        for (k, s) in transcript.segments.enumerated() {
            let w = WordAlignment.words(s.text)
            hypWords += w
            hypSegment += Array(repeating: k, count: w.count)
        }
        let alignment = WordAlignment(reference: refWords, hypothesis: hypWords)
        #expect(alignment.wordErrorRate <= 0.15, "\(model): WER \(alignment.wordErrorRate) — heard: \(transcript.text)")

        for (k, segment) in transcript.segments.enumerated() {
            // Only exact matches place a segment: a misheard word may be aligned to the next sentence's word.
            let covered = hypSegment.indices.filter { hypSegment[$0] == k }
                .compactMap { h in alignment.hypothesisToReference[h].flatMap { hypWords[h] == refWords[$0] ? $0 : nil } }
                .map { refSentence[$0] }
            guard let first = covered.min(), let last = covered.max() else {
                Issue.record("\(model): segment \(segment.text) matches no narrated words")
                continue
            }
            let start = truth.sentences[first].start, end = truth.sentences[last].end
            #expect(abs(segment.start - start) <= 1.0, "\(model): '\(segment.text)' starts at \(segment.start), narration at \(start)")
            #expect(abs(segment.end - end) <= 1.0, "\(model): '\(segment.text)' ends at \(segment.end), narration at \(end)")
        }
    }

    @Test func baseTranscribesTheNarrationWithinWERAndTiming() async throws {
        try await checkNarration(SharedTranscribers.base.get(), model: "whisper-base")
    }

    @Test func tinyEnTranscribesTheNarrationWithinWERAndTiming() async throws {
        try await checkNarration(SharedTranscribers.tinyEn.get(), model: "whisper-tiny.en")
    }

    @Test(arguments: ["music.mp4", "silent-video.mp4"])
    func clipsWithoutSpeechGiveNoWords(sample: String) async throws {
        let t = try SharedTranscribers.base.get()
        let transcript = try await t.transcribe(file: TestEnv.sample(sample))
        #expect(transcript.segments.isEmpty, "\(sample): invented \(transcript.text)")
        #expect(transcript.language == nil)
    }

    @Test func silenceAndNoiseGiveNoWords() async throws {
        let t = try SharedTranscribers.base.get()
        let silence = [Float](repeating: 0, count: 16000 * 20)
        #expect(try await t.transcribe(samples: silence).segments.isEmpty)
        // Steady white noise at -30 dBFS: loud, but no speech.
        var rng = SystemRandomNumberGenerator()
        let noise = (0..<(16000 * 20)).map { _ in Float.random(in: -0.055...0.055, using: &rng) }
        let heard = try await t.transcribe(samples: noise)
        #expect(heard.segments.isEmpty, "noise: invented \(heard.text)")
    }

    @Test func gateFindsSpeechOnlyWhereItIsLoud() {
        var samples = [Float](repeating: 0, count: 16000 * 6)
        for i in (2 * 16000)..<(3 * 16000) { samples[i] = 0.3 * sin(Float(i) * 0.1) }
        let regions = SpeechGate().regions(in: samples)
        #expect(regions.count == 1)
        if let r = regions.first {
            #expect(abs(r.lowerBound - 1.8) < 0.05 && abs(r.upperBound - 3.2) < 0.05, "\(r)")
        }
        #expect(SpeechGate().regions(in: [Float](repeating: 0, count: 16000)).isEmpty)
    }

    @Test func soundDescriptionsAndPunctuationAreNotWords() {
        #expect(Transcriber.clean(" [Music] ") == "")
        #expect(Transcriber.clean("♪ ♪") == "")
        #expect(Transcriber.clean("(upbeat music) ...") == "")
        #expect(Transcriber.clean(" Hello (laughs) there.") == "Hello  there.")
    }

    @Test func cancellationStopsTranscription() async throws {
        let t = try SharedTranscribers.base.get()
        let task = Task { try await t.transcribe(file: TestEnv.sample("narrated.mp4")) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
    }

    @Test func subtitlesAreWellFormed() {
        let t = Transcript(language: "en", segments: [
            TranscriptSegment(start: 1.2, end: 4.181, text: "Hello.", noSpeechProbability: 0.01),
            TranscriptSegment(start: 3661.5, end: 3662, text: "Bye.", noSpeechProbability: 0.02),
        ], duration: 3700, model: "whisper-base")
        // "Bye." lasts 0.5 s: it stays up for the 5/6 s minimum.
        #expect(t.srt == "1\n00:00:01,200 --> 00:00:04,181\nHello.\n\n2\n01:01:01,500 --> 01:01:02,334\nBye.\n\n")
        #expect(t.vtt.hasPrefix("WEBVTT\n\n00:00:01.200 --> 00:00:04.181\nHello.\n"))
    }

    @Test func aModelThatIsNotThereIsATypedErrorNamingTheCommand() throws {
        let empty = RecapPaths(cache: FileManager.default.temporaryDirectory.appendingPathComponent("recap-none-\(UUID())"))
        #expect(throws: ModelError.notInstalled(model: "whisper-base", path: ModelCatalog.location(of: .whisperBase, paths: empty).path)) {
            _ = try ModelCatalog.path(for: .whisperBase, paths: empty)
        }
        let message = "\(ModelError.notInstalled(model: "smollm2", path: "/x"))"
        #expect(message.contains("recap models install smollm2"))
        #expect(throws: SpeechError.modelLoadFailed(path: "/nonexistent/ggml.bin")) {
            _ = try WhisperModel(path: "/nonexistent/ggml.bin")
        }
    }
}
