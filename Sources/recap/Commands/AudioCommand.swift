import ArgumentParser
import Foundation
import Media

/// `recap audio FILE --out FILE.wav`: the best audio stream as 16 kHz mono WAV, streamed.
struct AudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio",
        abstract: "Extract a file's audio as 16 kHz mono WAV (what speech models want).",
        discussion: """
            Decodes the best audio stream and downmixes and resamples it to 16 kHz mono, streaming: memory stays \
            small however long the file is. --clips DIR also cuts it into clips of at most --clip-seconds (default \
            30, Gemma 3n's limit), each cut at the quietest point near the limit, written as DIR/clip-0001.wav ... \
            with DIR/clips.json giving each clip's start time.

            A file without an audio stream is not an error: it says so on stderr, writes nothing and exits 0 \
            (--json prints {"audio": false}). Unreadable or non-media files exit 1.

            Examples:
              recap audio lecture.mp4 --out lecture.wav
              recap audio interview.mkv --out a.wav --clips clips/ --clip-seconds 20
            """)

    @Argument(help: ArgumentHelp("The media file.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The WAV file to write.", valueName: "file.wav"))
    var out: String

    @Flag(help: "Write 32-bit float samples instead of 16-bit PCM.")
    var float = false

    @Option(help: ArgumentHelp("Also write clips cut at quiet points into this folder.", valueName: "dir"))
    var clips: String?

    @Option(name: .customLong("clip-seconds"), help: ArgumentHelp("Longest clip for --clips.", valueName: "seconds"))
    var clipSeconds: Double = 30

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    func validate() throws {
        guard clipSeconds >= 1 else { throw ValidationError("--clip-seconds must be at least 1") }
    }

    struct Summary: Encodable {
        var file: String
        var audio: Bool
        var wav: String?
        var sampleRate: Int?
        var duration: Double?
        var sourceCodec: String?
        var clips: [ClipEntry]?
    }

    struct ClipEntry: Encodable {
        var file: String
        var start: Double
        var duration: Double
    }

    func run() async throws {
        let url = URL(fileURLWithPath: file)
        do {
            guard let stream = try AudioStream.open(url: url, chunkDuration: 1.0) else {
                FileHandle.standardError.write(Data("recap: \(file): no audio stream; nothing written\n".utf8))
                if json { try MediaCLI.printJSON(Summary(file: file, audio: false)) }
                return
            }
            let writer = try WAVWriter(url: URL(fileURLWithPath: out), encoding: float ? .float32 : .pcm16)
            var clipState = AudioChunker.State(chunker: AudioChunker(maxClipDuration: clipSeconds))
            var clipEntries: [ClipEntry] = []
            let clipDir = clips.map { URL(fileURLWithPath: $0) }
            if let clipDir {
                do { try FileManager.default.createDirectory(at: clipDir, withIntermediateDirectories: true) } catch {
                    throw MediaError.writeFailed(path: clipDir.path, reason: error.localizedDescription)
                }
            }
            func writeClip(_ clip: AudioClip) throws {
                guard let clipDir else { return }
                let name = String(format: "clip-%04d.wav", clip.index + 1)
                let w = try WAVWriter(url: clipDir.appendingPathComponent(name), encoding: float ? .float32 : .pcm16)
                try w.append(clip.samples)
                try w.finish()
                clipEntries.append(ClipEntry(file: name, start: clip.startTime, duration: clip.duration))
            }
            var end = 0.0
            for try await chunk in stream {
                try writer.append(chunk.samples)
                end = chunk.endTime
                if clipDir != nil { for clip in clipState.push(chunk) { try writeClip(clip) } }
                if let total = stream.info.duration, total > 0 {
                    MediaCLI.progress("\(file): \(Int(min(100, end / total * 100)))%")
                }
            }
            if let last = clipState.finish() { try writeClip(last) }
            try writer.finish()
            MediaCLI.endProgress()
            if let clipDir {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                try AtomicFile.write(try enc.encode(clipEntries), to: clipDir.appendingPathComponent("clips.json"))
            }
            let duration = Double(writer.samplesWritten) / 16000
            if json {
                try MediaCLI.printJSON(Summary(file: file, audio: true, wav: out, sampleRate: 16000, duration: duration,
                                              sourceCodec: stream.info.codec, clips: clipDir == nil ? nil : clipEntries))
            } else {
                var line = "\(file): \(String(format: "%.2f", duration)) s of 16 kHz mono -> \(out)"
                if let clips { line += ", \(clipEntries.count) clips in \(clips)" }
                print(line)
            }
        } catch {
            MediaCLI.endProgress()
            MediaCLI.printError(error)
            throw ExitCode(1)
        }
    }
}
