import ArgumentParser
import Foundation
import Media

/// `recap frames FILE --out DIR`: sample frames as JPEGs plus frames.json (and a contact sheet).
struct FramesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frames",
        abstract: "Sample frames from a video into JPEGs and frames.json.",
        discussion: """
            Choose one strategy:
              --every SECONDS   the frame on screen at 0, S, 2S, ... (seeks to the keyframe before each time and \
            decodes forward; never the whole file)
              --count N         N frames evenly spaced (the middles of N equal slices)
              --keyframes       keyframes only; the fast mode: no other frame is decoded
              --scenes          one frame per scene, in one decoding pass: cuts (also between dark shots), \
            fades through black or white and cross-dissolves start scenes; camera motion and flashes do not. \
            Each scene's frame is its sharpest, preferring the middle.

            Frames are turned upright (display rotation), get square pixels (sample aspect ratio), fit in \
            --max-side, and are written as DIR/frame-0001.jpg ... with DIR/frames.json listing each frame's file, \
            time in seconds, keyframe flag and pixel facts (brightness, contrast, colours, motion), plus the scenes \
            for --scenes: each scene's start and end, the transition that opened it (kind cut, fade or dissolve, \
            its span and score) and the chosen frame's time. --contact-sheet writes a grid of the frames with their times on them.

            Examples:
              recap frames talk.mp4 --out talk-frames --every 10
              recap frames holiday.mov --out frames --scenes --contact-sheet sheet.jpg
            """)

    @Argument(help: ArgumentHelp("The video file.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("Folder for the JPEGs and frames.json (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Sample the frame on screen every SECONDS.", valueName: "seconds"))
    var every: Double?

    @Option(help: ArgumentHelp("Sample N evenly spaced frames.", valueName: "n"))
    var count: Int?

    @Flag(help: "Sample keyframes only (fast: no other frame is decoded).")
    var keyframes = false

    @Flag(help: "Sample one frame per scene.")
    var scenes = false

    @Option(help: ArgumentHelp("--scenes: smallest content change (0-1: brightness, colour and structure) a cut may have; lower finds subtler cuts. A cut must also stand out 3x against its neighbouring frames.", valueName: "score"))
    var threshold: Double = 0.08

    @Option(name: .customLong("min-scene"), help: ArgumentHelp("--scenes: shortest scene in seconds.", valueName: "seconds"))
    var minScene: Double = 0.6

    @Option(name: .customLong("min-interval"), help: ArgumentHelp("--keyframes: skip keyframes closer than this to the previous one.", valueName: "seconds"))
    var minInterval: Double = 0

    @Option(name: .customLong("max-side"), help: ArgumentHelp("Longest side of each frame in pixels.", valueName: "pixels"))
    var maxSide: Int = 768

    @Option(help: ArgumentHelp("JPEG quantiser: 2 (best) to 31 (smallest).", valueName: "q"))
    var quality: Int = 3

    @Option(name: .customLong("contact-sheet"), help: ArgumentHelp("Also write a grid of the frames with their times.", valueName: "file.jpg"))
    var contactSheet: String?

    @Flag(help: "Print frames.json on stdout instead of a summary line.")
    var json = false

    func validate() throws {
        let chosen = [every != nil, count != nil, keyframes, scenes].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("choose exactly one of --every, --count, --keyframes, --scenes") }
        if let every, every <= 0 { throw ValidationError("--every must be a positive number of seconds") }
        if let count, count <= 0 { throw ValidationError("--count must be at least 1") }
        guard (16...8192).contains(maxSide) else { throw ValidationError("--max-side must be between 16 and 8192") }
        guard (2...31).contains(quality) else { throw ValidationError("--quality must be between 2 and 31") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be between 0 and 1") }
    }

    var strategy: SamplingStrategy {
        if let every { return .every(seconds: every) }
        if let count { return .count(count) }
        if keyframes { return .keyframes(minInterval: minInterval) }
        return .scenes(threshold: threshold, minSceneLength: minScene)
    }

    func run() async throws {
        let url = URL(fileURLWithPath: file)
        let outDir = URL(fileURLWithPath: out)
        do {
            var n = 0
            var frames: [SampledFrame] = []
            var sampling = try FrameSampler.sample(url: url, strategy: strategy,
                                                   options: FrameSamplerOptions(maxSide: maxSide, jpegQuality: quality)) { frame in
                n += 1
                frames.append(frame)
                MediaCLI.progress("\(file): frame \(n) at \(MediaCLI.clock(frame.time))")
            }
            MediaCLI.endProgress()
            sampling.frames = frames
            let manifest = try FramesOutput.write(sampling, to: outDir)
            if let sheet = contactSheet, !frames.isEmpty {
                try ContactSheet.write(frames, to: URL(fileURLWithPath: sheet))
            }
            if json {
                try MediaCLI.printJSON(manifest)
            } else {
                var line = "\(file): \(manifest.frames.count) frames (\(manifest.strategy)) -> \(outDir.appendingPathComponent("frames.json").path)"
                if let s = manifest.scenes { line += ", \(s.count) scenes" }
                if let sheet = contactSheet { line += ", contact sheet \(sheet)" }
                if let d = manifest.stats.damagedFrames { line += "; \(d) damaged packet\(d == 1 ? "" : "s") skipped (the file is partly corrupt)" }
                print(line)
            }
        } catch {
            MediaCLI.endProgress()
            MediaCLI.printError(error)
            throw ExitCode(1)
        }
    }
}
