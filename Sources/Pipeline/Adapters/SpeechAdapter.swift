import Engine
import Foundation
import Media
import Speech

/// The pipeline's speech side over the Speech module's whisper.cpp transcriber (speech gating included),
/// through the process's one `WhisperTranscriptSource`, which the local engine shares. The model loads on the
/// first block, so a run with nothing to transcribe never pays for it.
public struct WhisperSpeech: SpeechPort {
    let source: WhisperTranscriptSource
    public var modelName: String { source.modelName }
    public var method: String { source.method }

    public init(_ source: WhisperTranscriptSource) { self.source = source }

    /// `Transcriber.transcribe(clips:)`, the same path `recap transcribe` takes: the language is detected on
    /// the first block with speech and kept, repeats across blocks are dropped.
    public func transcribe(_ blocks: AsyncThrowingStream<AudioClip, any Error>, language: String, prompt: String?) async throws -> SpeechResult {
        let t = try await source.loaded()
        let r = try await t.transcribe(clips: blocks, language: language == "auto" ? nil : language, prompt: prompt)
        return SpeechResult(language: r.language, segments: r.segments.map(Self.segment),
                            languageProbability: r.languageProbability, translation: r.translation?.map(Self.segment),
                            timeline: r.timeline.map { .init(start: $0.start, end: $0.end, kind: $0.kind.rawValue) })
    }

    static func segment(_ s: TranscriptSegment) -> RecapOutput.Segment {
        .init(start: s.start, end: s.end, text: s.text,
              words: s.words?.map { .init(start: $0.start, end: $0.end, text: $0.text, probability: $0.probability) },
              speaker: s.speaker)
    }
}
