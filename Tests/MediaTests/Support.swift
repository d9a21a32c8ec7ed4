import Foundation
import Testing
@testable import Media

/// The repo's samples/ folder and its ground-truth JSON files.
enum Samples {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples")

    static func url(_ name: String) -> URL { dir.appendingPathComponent(name) }

    static func truth(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: url(name + ".json"))
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// A temporary folder for inputs made at test time with the ffmpeg CLI (allowed in tests, not at run time).
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("recap-media-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

/// Runs a tool and returns stdout; fails the test (throws) on a non-zero exit.
@discardableResult
func run(_ tool: String, _ args: [String]) throws -> Data {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [tool] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    if p.terminationStatus != 0 {
        throw ToolFailure(message: "\(tool) \(args.joined(separator: " ")): \(String(decoding: errData, as: UTF8.self))")
    }
    return data
}

struct ToolFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

/// ffmpeg with quiet logging and overwrite.
func ffmpeg(_ args: [String]) throws { try run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + args) }

/// Keyframe times as ffprobe reports them (the reference for keyframe mode).
func ffprobeKeyframeTimes(_ url: URL) throws -> [Double] {
    let out = try run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
                                  "-show_entries", "frame=pts_time", "-of", "csv=p=0", url.path])
    return String(decoding: out, as: UTF8.self).split(whereSeparator: \.isNewline)
        .compactMap { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: ", "))) }
}

/// All frame times as ffprobe reports them.
func ffprobeFrameTimes(_ url: URL) throws -> [Double] {
    let out = try run("ffprobe", ["-v", "error", "-select_streams", "v:0",
                                  "-show_entries", "frame=pts_time", "-of", "csv=p=0", url.path])
    return String(decoding: out, as: UTF8.self).split(whereSeparator: \.isNewline)
        .compactMap { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: ", "))) }
}
