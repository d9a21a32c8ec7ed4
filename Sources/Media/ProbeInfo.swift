import Foundation

/// What `MediaProbe.probe(url:)` reports about a file. Codable, so `recap probe --json` prints it as is.
public struct ProbeInfo: Codable, Sendable, Equatable {
    /// The path that was probed.
    public var path: String
    /// FFmpeg's container name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm".
    public var container: String
    /// A human name for the container, e.g. "QuickTime / MOV".
    public var containerLongName: String
    /// Seconds, nil if the container does not say.
    public var duration: Double?
    /// Overall bit rate in bits per second, nil if unknown.
    public var bitRate: Int?
    /// File size in bytes.
    public var size: Int64?
    public var streams: [StreamInfo]
    /// Container tags, keys lowercased (e.g. "title", "creation_time", "encoder").
    public var tags: [String: String]
    /// The "title" tag, if any.
    public var title: String?
    /// The "creation_time" tag (ISO 8601 as written by the device), if any.
    public var creationTime: String?
    public var chapters: [Chapter]

    /// The first video stream that is not cover art.
    public var video: StreamInfo? { streams.first { $0.type == .video && !$0.isAttachedPicture } }
    /// The first audio stream.
    public var audio: StreamInfo? { streams.first { $0.type == .audio } }
}

public struct Chapter: Codable, Sendable, Equatable {
    public var id: Int64
    /// Seconds from the start of the file.
    public var start: Double
    public var end: Double
    public var title: String?
}

public enum StreamType: String, Codable, Sendable {
    case video, audio, subtitle, data, attachment, unknown
}

public struct StreamInfo: Codable, Sendable, Equatable {
    public var index: Int
    public var type: StreamType
    /// Short codec name, e.g. "h264", "aac".
    public var codec: String
    public var codecLongName: String?
    public var profile: String?
    public var bitRate: Int?
    /// Seconds, nil if unknown.
    public var duration: Double?
    public var language: String?
    public var isDefault: Bool
    /// Cover art stored as a one-frame video stream.
    public var isAttachedPicture: Bool
    public var tags: [String: String]
    public var video: VideoStreamInfo?
    public var audio: AudioStreamInfo?
}

public struct VideoStreamInfo: Codable, Sendable, Equatable {
    /// Coded picture size, as stored.
    public var width: Int
    public var height: Int
    /// Size as a player shows it: sample aspect ratio applied, then rotation.
    public var displayWidth: Int
    public var displayHeight: Int
    /// Average frames per second (nil if unknown); for variable-frame-rate files this is the mean.
    public var frameRate: Double?
    /// The container's base ("real") frame rate; differs from frameRate for many VFR files.
    public var baseFrameRate: Double?
    /// Degrees to turn the stored picture clockwise to display it upright: 0, 90, 180 or 270,
    /// from the display-matrix side data (a phone held upright stores landscape with 90).
    public var rotation: Int
    /// True when the display matrix also mirrors the picture.
    public var mirrored: Bool
    /// Sample (pixel) aspect ratio as "num:den"; "1:1" for square pixels or when unknown.
    public var sampleAspectRatio: String
    public var pixelFormat: String?
    /// Bits per component, e.g. 8 or 10.
    public var bitDepth: Int?
    public var frameCount: Int?
}

public struct AudioStreamInfo: Codable, Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    /// FFmpeg's layout description, e.g. "mono", "stereo", "5.1(side)".
    public var channelLayout: String
    public var sampleFormat: String?
}
