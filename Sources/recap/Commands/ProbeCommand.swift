import ArgumentParser
import Foundation
import Media

/// `recap probe FILE...`: what is in a media file, without decoding it.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show the container, streams, tags and chapters of media files.",
        discussion: """
            For each file: container, duration and bit rate; per stream the codec, and for video the size, \
            frame rate, display rotation and sample aspect ratio, for audio the sample rate and channel layout; \
            the title and creation-time tags; chapters.

            A file that is not media (text, random bytes, empty, truncated, unreadable, a directory) is reported \
            on stderr with the reason. Every file is reported; the exit code is 1 if any failed, else 0.

            Examples:
              recap probe holiday.mp4
              recap probe samples/*.mp4 --json
            """)

    @Argument(help: ArgumentHelp("Media files to probe.", valueName: "file"))
    var files: [String]

    @Flag(help: "Print JSON (an array with one object per file: {path, probe} or {path, error}).")
    var json = false

    func run() async throws {
        var failed = false
        var results: [ProbeResult] = []
        for file in files {
            do {
                let info = try MediaProbe.probe(url: URL(fileURLWithPath: file))
                if json { results.append(ProbeResult(path: file, probe: info, error: nil)) } else { print(Self.describe(info, as: file)) }
            } catch {
                failed = true
                MediaCLI.printError(error)
                if json { results.append(ProbeResult(path: file, probe: nil, error: "\(error)")) }
            }
        }
        if json { try MediaCLI.printJSON(results) }
        if failed { throw ExitCode(1) }
    }

    struct ProbeResult: Encodable {
        var path: String
        var probe: ProbeInfo?
        var error: String?
    }

    static func describe(_ p: ProbeInfo, as name: String) -> String {
        var lines = [name]
        var head = "  container  \(p.container) (\(p.containerLongName))"
        if let d = p.duration { head += ", \(MediaCLI.clock(d))" }
        if let b = p.bitRate { head += ", \(b / 1000) kb/s" }
        lines.append(head)
        if let t = p.title { lines.append("  title      \(t)") }
        if let c = p.creationTime { lines.append("  created    \(c)") }
        for s in p.streams {
            var line = "  #\(s.index) \(s.type.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(s.codec)"
            if let prof = s.profile { line += " (\(prof))" }
            if let v = s.video {
                line += " \(v.width)x\(v.height)"
                if let fr = v.frameRate { line += String(format: " %.3g fps", fr) }
                if let pf = v.pixelFormat { line += ", \(pf)" }
                line += ", SAR \(v.sampleAspectRatio)"
                if v.rotation != 0 || v.mirrored {
                    line += ", rotation \(v.rotation)\(v.mirrored ? " mirrored" : "")"
                }
                if v.displayWidth != v.width || v.displayHeight != v.height { line += ", displayed \(v.displayWidth)x\(v.displayHeight)" }
                if s.isAttachedPicture { line += " (cover art)" }
            }
            if let a = s.audio { line += " \(a.sampleRate) Hz \(a.channelLayout)" }
            if let l = s.language { line += " [\(l)]" }
            lines.append(line)
        }
        if !p.chapters.isEmpty {
            lines.append("  chapters   " + p.chapters.map { "\(MediaCLI.clock($0.start)) \($0.title ?? "#\($0.id)")" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}

/// Helpers shared by the media commands (probe, frames, audio).
enum MediaCLI {
    static func printError(_ error: any Error) {
        FileHandle.standardError.write(Data("recap: \(error)\n".utf8))
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }

    /// Progress goes to stderr, and only when stderr is a terminal (quiet under cron).
    static var interactive: Bool { isatty(STDERR_FILENO) == 1 }

    static func progress(_ text: String) {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    static func endProgress() {
        guard interactive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// "0:30.0", "1:02:03.4".
    static func clock(_ seconds: Double) -> String { ContactSheet.timestamp(seconds) }
}
