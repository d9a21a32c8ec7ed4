import Foundation

/// Every way the speech layer fails, naming the file and the next step.
public enum SpeechError: Error, Sendable, Equatable, CustomStringConvertible {
    /// whisper.cpp could not load the model file (missing, truncated, not a ggml Whisper model).
    case modelLoadFailed(path: String)
    /// whisper_full returned an error code.
    case inferenceFailed(code: Int32)
    /// Audio that is not 16 kHz mono.
    case badAudio(String)
    /// The task was cancelled while whisper was running.
    case cancelled
    /// Silero VAD could not process the audio.
    case vadFailed

    public var description: String {
        switch self {
        case .modelLoadFailed(let path):
            return "whisper.cpp cannot load \(path): reinstall it with `recap models install --all` (or name a ggml Whisper or Silero VAD model)"
        case .inferenceFailed(let code):
            return "whisper.cpp failed while transcribing (code \(code))"
        case .badAudio(let why):
            return "audio not usable for speech recognition: \(why)"
        case .cancelled:
            return "transcription cancelled"
        case .vadFailed:
            return "voice activity detection failed on this audio (whisper.cpp's Silero VAD returned nothing)"
        }
    }
}
