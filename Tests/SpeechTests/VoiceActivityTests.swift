import Foundation
import Testing
@testable import Models
@testable import Speech

/// Silero VAD: the conversion from the PyPI wheel, and what reaches whisper (only speech).
@Suite(.serialized) struct VoiceActivityTests {
    /// The ONNX → ggml conversion equals whisper.cpp's own reference file (made by its torch converter from
    /// silero-vad 6.2.0) byte for byte, except the header's version field.
    @Test func conversionMatchesWhisperCppsReferenceModel() throws {
        let ours = try Data(contentsOf: TestEnv.model(.sileroVAD))
        let reference = try Data(contentsOf: TestEnv.whisperSource.appendingPathComponent("models/for-tests-silero-v6.2.0-ggml.bin"))
        #expect(ours.count == reference.count)
        // magic (4) + name length (4) + "silero-16k" (10) + major, minor, patch (3 × 4): the patch is at 26.
        let differing = zip(ours, reference).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing == [26], "bytes differ at \(differing.prefix(10))")
        #expect(ours[26] == 3 && reference[26] == 0)
    }

    @Test func aCorruptONNXFileIsAClearError() throws {
        let dir = try TestEnv.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.onnx")
        try Data([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]).write(to: bad)
        #expect(throws: ModelError.self) {
            try SileroConverter.convert(onnx: bad, version: (6, 2, 3), to: dir.appendingPathComponent("out.bin"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.bin").path))
    }

    @Test func speechIsFoundWhereItIsAndNowhereElse() throws {
        let vad = try SharedTranscribers.vad.get()
        let speech = try SynthAudio.say("The lighthouse of Alexandria stood on the island of Pharos.")
        let audio = try SynthAudio.sound("music", seconds: 5) + SynthAudio.silence(2) + speech + SynthAudio.silence(3)
        let regions = try vad.speech(in: audio)
        let onset = 7.0, offset = 7.0 + Double(speech.count) / 16000
        #expect(!regions.isEmpty)
        if let first = regions.first, let last = regions.last {
            #expect(abs(first.lowerBound - onset) < 0.4, "speech found from \(first.lowerBound), it starts at \(onset)")
            #expect(abs(last.upperBound - offset) < 0.5, "speech found until \(last.upperBound), it ends at \(offset)")
        }
    }

    /// Every kind of non-speech, ten times each (whisper is not deterministic under thread scheduling, and the
    /// old energy gate passed or failed music by luck): never a word.
    @Test(arguments: ["music", "music-sample", "tremolo", "applause", "tone", "noise", "silence"])
    func nonSpeechNeverGivesWords(kind: String) async throws {
        let t = try SharedTranscribers.base.get()
        let audio = try SynthAudio.sound(kind)
        for run in 1...10 {
            let heard = try await t.transcribe(samples: audio)
            #expect(heard.segments.isEmpty, "\(kind), run \(run): invented \"\(heard.text)\"")
            #expect(heard.language == nil)
            if kind != "tremolo" { #expect(!heard.timeline.contains { $0.kind == .speech }, "\(kind): \(heard.timeline)") }
        }
    }

    /// whisperX #567: a talk that opens with music. The language comes from the speech, the first segment
    /// starts with it, and nothing is written over the music.
    @Test func aTalkThatOpensWithMusicIsHeardFromItsFirstWord() async throws {
        let t = try SharedTranscribers.base.get()
        let speech = try SynthAudio.say("The lighthouse of Alexandria stood on the island of Pharos for a thousand years.")
        let transcript = try await t.transcribe(samples: try SynthAudio.sound("music", seconds: 15) + speech + SynthAudio.silence(1))
        #expect(transcript.language == "en")
        #expect((transcript.languageProbability ?? 0) > 0.5)
        let first = try #require(transcript.segments.first)
        #expect(abs(first.start - 15) <= 0.5, "first segment at \(first.start), speech at 15")
        #expect(transcript.segments.allSatisfy { $0.start >= 14.5 })
        #expect(transcript.timeline.first?.kind == .sound && abs((transcript.timeline.first?.end ?? 0) - 15) < 0.5, "\(transcript.timeline)")
    }
}
