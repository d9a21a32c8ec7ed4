import Foundation

/// What the local engine needs from a speech recogniser to accept audio parts: words for a clip of
/// 16 kHz mono samples. `SpeechTranscriberAdapter` provides it over the Speech module's whisper.cpp transcriber.
public protocol SpeechToText: Sendable {
    /// e.g. "whisper-base": part of the engine identity.
    var modelName: String { get }
    /// The words spoken in the clip ("" for music, noise or silence).
    func transcribe(samples: [Float]) async throws -> String
}
