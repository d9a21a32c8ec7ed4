import Foundation
import Testing
@testable import Models
@testable import Speech

/// Who spoke when: the voice encoder converted from Resemblyzer's wheel, clustering, and labels on a made-up
/// dialogue with known turns.
@Suite(.serialized) struct SpeakerTests {
    static let encoder: Result<VoiceEncoder, Error> = Result { try VoiceEncoder(path: TestEnv.model(.voiceEncoder).path) }
    static let transcriber: Result<Transcriber, Error> = Result {
        try Transcriber(model: SharedTranscribers.base.get().model, name: "whisper-base", vad: SharedTranscribers.vad.get(),
                        voices: encoder.get())
    }

    static let turns = [
        "Good morning. Did you finish the report on the river delta project?",
        "Yes, I sent it to the whole team yesterday evening, with the maps attached.",
        "Great. What did the survey say about the sand deposits near the coast?",
        "They have grown by almost twenty percent since the last measurement in spring.",
        "That is more than we expected. We should tell the harbour office soon.",
        "I agree. I will call them this afternoon and arrange a meeting for next week.",
    ]

    /// ≥ 90 % of the speech time carries the right speaker (labels matched to voices by majority), with two
    /// espeak-ng voices taking turns.
    @Test(arguments: [("en-us+m3", "en-us+f2"), ("en-gb-x-rp", "en-us+f4")])
    func aDialogueOfTwoVoicesIsLabelledByTurn(voices: (String, String)) async throws {
        var audio = SynthAudio.silence(0.5)
        var truth: [(range: ClosedRange<Double>, voice: Int)] = []
        for (i, text) in Self.turns.enumerated() {
            let spoken = try SynthAudio.say(text, voice: i % 2 == 0 ? voices.0 : voices.1)
            let start = Double(audio.count) / 16000
            audio += spoken
            truth.append((start...(Double(audio.count) / 16000), i % 2))
            audio += SynthAudio.silence(0.4)
        }
        let transcript = try await Self.transcriber.get().transcribe(samples: audio)
        let labels = Set(transcript.segments.compactMap(\.speaker))
        #expect(labels.count == 2, "\(labels)")
        // Seconds of each (label, voice) pair.
        var overlap: [String: [Double]] = [:]
        var total = 0.0
        for s in transcript.segments {
            guard let label = s.speaker else { Issue.record("unlabelled segment \(s.text)"); continue }
            for t in truth {
                let shared = max(0, min(s.end, t.range.upperBound) - max(s.start, t.range.lowerBound))
                overlap[label, default: [0, 0]][t.voice] += shared
                total += shared
            }
        }
        // The best one-to-one matching of labels to voices.
        let names = overlap.keys.sorted()
        var best = 0.0
        if names.count >= 2 {
            for a in names { for b in names where b != a { best = max(best, overlap[a]![0] + overlap[b]![1]) } }
        } else if let only = names.first {
            best = overlap[only]!.max() ?? 0
        }
        #expect(total > 0 && best / total >= 0.9, "\(best / total) of the speech right: \(transcript.segments.map { "\($0.speaker ?? "?"): \($0.text)" })")
        // Words carry their segment's speaker; subtitles show the labels.
        #expect(transcript.segments.allSatisfy { s in (s.words ?? []).allSatisfy { $0.speaker == s.speaker } })
        #expect(SubtitleFormat.vtt(transcript.cues()).contains("<v Speaker 2>"))
        #expect(SubtitleFormat.srt(transcript.cues()).contains("[Speaker 1]"))
    }

    /// One voice is one speaker, whether synthetic or a person reading (LibriVox), and the subtitles carry no label.
    @Test func oneVoiceIsOneSpeaker() async throws {
        let t = try Self.transcriber.get()
        let files = try FileManager.default.contentsOfDirectory(atPath: "/usr/share/pocketsphinx/test/data/librivox")
            .filter { $0.hasSuffix(".wav") }.sorted()
        var reading: [Float] = []
        for f in files { reading += try SynthAudio.decode(["-i", "/usr/share/pocketsphinx/test/data/librivox/\(f)"]) + SynthAudio.silence(0.5) }
        let narrated = try await t.transcribe(file: TestEnv.sample("narrated.mp4"))
        let person = try await t.transcribe(samples: reading)
        for (name, transcript) in [("narrated", narrated), ("librivox", person)] {
            #expect(transcript.segments.count >= 4)
            #expect(Set(transcript.segments.compactMap(\.speaker)) == ["Speaker 1"], "\(name)")
            #expect(!SubtitleFormat.srt(transcript.cues()).contains("[Speaker"), "\(name)")
        }
    }

    /// The same voice gives close vectors; unit length; a file that is not the model is a clear error.
    @Test func embeddingsAreUnitVectorsCloserForTheSameVoice() throws {
        let e = try Self.encoder.get()
        let a1 = try #require(e.embed(try SynthAudio.say("The river carries sand and mud down to the sea.", voice: "en-us+m3")))
        let a2 = try #require(e.embed(try SynthAudio.say("Over many years new land forms for plants and birds.", voice: "en-us+m3")))
        let b = try #require(e.embed(try SynthAudio.say("The river carries sand and mud down to the sea.", voice: "en-us+f2")))
        #expect(a1.count == 256 && abs(SpeakerClustering.dot(a1, a1) - 1) < 1e-4)
        #expect(SpeakerClustering.dot(a1, a2) > SpeakerClustering.dot(a1, b), "same voice, other words vs same words, other voice")
        #expect(e.embed([Float](repeating: 0.1, count: 1000)) == nil, "too short to tell")
        #expect(throws: SpeechError.modelLoadFailed(path: "/etc/hostname")) { _ = try VoiceEncoder(path: "/etc/hostname") }
        #expect(SpeakerClustering.cluster([a1, a2, b], threshold: 0.999) == [0, 1, 2])
        #expect(SpeakerClustering.cluster([a1, a2, b], threshold: -1) == [0, 0, 0])
    }
}
