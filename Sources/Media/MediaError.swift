import CFFmpeg
import Foundation

/// Every way the media layer fails. Each case names the file and says why; `description` adds what to do next.
///
/// "No audio stream" is deliberately *not* here: `AudioStream.open` returns nil for it, because a silent
/// video is a normal input for the pipeline, not a failure.
public enum MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing exists at the path.
    case fileNotFound(path: String)
    /// The path is a directory.
    case isDirectory(path: String)
    /// A FIFO, socket or device: opening it could block forever, so it is refused up front.
    case notRegularFile(path: String)
    /// The file exists but cannot be opened for reading (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// The file has zero bytes.
    case emptyFile(path: String)
    /// FFmpeg could not recognise a container, or found no audio or video in it (text, random bytes...).
    case notMedia(path: String, reason: String)
    /// The container says more data should follow than the file holds (a cut-off download or copy).
    case truncated(path: String, expectedBytes: Int64, actualBytes: Int64)
    /// The file has no video stream but the operation needs one (frames of an audio-only file).
    case noVideoStream(path: String)
    /// No decoder for the stream's codec in this FFmpeg build.
    case unsupportedCodec(path: String, codec: String)
    /// FFmpeg failed while reading, decoding, scaling, resampling or encoding.
    case ffmpeg(path: String, operation: String, reason: String)
    /// Writing an output failed.
    case writeFailed(path: String, reason: String)
    /// The caller asked for something impossible (e.g. `--count 0`).
    case invalidRequest(String)

    /// The file the error is about, if any.
    public var path: String? {
        switch self {
        case .fileNotFound(let p), .isDirectory(let p), .notRegularFile(let p), .emptyFile(let p),
             .noVideoStream(let p):
            return p
        case .unreadable(let p, _), .notMedia(let p, _), .unsupportedCodec(let p, _), .ffmpeg(let p, _, _),
             .writeFailed(let p, _), .truncated(let p, _, _):
            return p
        case .invalidRequest:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let p):
            return "\(p): no such file. Check the path."
        case .isDirectory(let p):
            return "\(p): is a directory, not a media file. Pass the files inside it (or use `recap run` on the folder)."
        case .notRegularFile(let p):
            return "\(p): not a regular file (FIFO, socket or device); refusing to read it. Copy it to a regular file first."
        case .unreadable(let p, let reason):
            return "\(p): cannot be read: \(reason). Check its permissions."
        case .emptyFile(let p):
            return "\(p): the file is empty (0 bytes). It was probably not copied or downloaded completely."
        case .notMedia(let p, let reason):
            return "\(p): not a media file FFmpeg can read (\(reason))."
        case .truncated(let p, let expected, let actual):
            return "\(p): truncated: the container indexes \(expected) bytes but the file has \(actual). Copy or download it again."
        case .noVideoStream(let p):
            return "\(p): has no video stream, so there are no frames to sample. Use `recap audio` for its sound."
        case .unsupportedCodec(let p, let codec):
            return "\(p): no decoder for codec '\(codec)' in this FFmpeg build."
        case .ffmpeg(let p, let operation, let reason):
            return "\(p): FFmpeg failed to \(operation): \(reason)."
        case .writeFailed(let p, let reason):
            return "\(p): cannot write: \(reason). Check the folder exists and is writable."
        case .invalidRequest(let why):
            return why
        }
    }
}

/// FFmpeg's own words for an error code, plus its last logged error line when that says more
/// ("moov atom not found" instead of just "Invalid data found when processing input").
enum FFmpegText {
    static func error(_ code: Int32, withLog: Bool = true) -> String {
        var buf = [CChar](repeating: 0, count: 256)
        recap_strerror(code, &buf, buf.count)
        let text = cString(buf)
        guard withLog, let log = lastLogLine(), !log.isEmpty, log != text else { return text }
        return "\(text): \(log)"
    }

    static func lastLogLine() -> String? {
        Thread.current.threadDictionary[FFmpegSetup.logKey] as? String
    }
}

/// One-time FFmpeg setup. FFmpeg explains many failures only in its log ("moov atom not found"), so its
/// log goes to a callback that keeps the last error line per thread, prints nothing (quiet for cron), and
/// lets the typed error carry the line.
enum FFmpegSetup {
    static let logKey = "recap.ffmpeg.lastLogLine"
    static let done: Bool = {
        av_log_set_callback { _, level, format, args in
            guard level <= AV_LOG_ERROR, let format, let args else { return }
            var buf = [CChar](repeating: 0, count: 256)
            _ = vsnprintf(&buf, buf.count, format, args)
            let line = cString(buf).trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { Thread.current.threadDictionary[FFmpegSetup.logKey] = line }
        }
        return true
    }()
    static func ensure() { _ = done }
    static func clearLastLog() { Thread.current.threadDictionary.removeObject(forKey: logKey) }
}

/// A Swift string from a NUL-terminated C buffer.
func cString(_ buf: [CChar]) -> String {
    buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
