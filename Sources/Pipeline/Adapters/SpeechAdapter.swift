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

    public init(_ source: WhisperTranscriptSource) { self.source = source }

    /// `Transcriber.transcribe(clips:)`, the same path `recap transcribe` takes: the language is detected on
    /// the first block with speech and kept, repeats across blocks are dropped.
    public func transcribe(_ blocks: AsyncThrowingStream<AudioClip, any Error>, language: String) async throws -> SpeechResult {
        let t = try await source.loaded()
        let r = try await t.transcribe(clips: blocks, language: language == "auto" ? nil : language)
        return SpeechResult(language: r.language, segments: r.segments.map { .init(start: $0.start, end: $0.end, text: $0.text) })
    }
}
