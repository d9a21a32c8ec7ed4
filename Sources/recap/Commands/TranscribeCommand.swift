import ArgumentParser
import Foundation
import Models
import Speech

/// `recap transcribe FILE`: the speech path alone, end to end: FFmpeg audio → gate → whisper.cpp → text.
struct TranscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe the speech of a video or audio file with whisper.cpp, offline.",
        discussion: """
            The audio is decoded and resampled to 16 kHz mono by FFmpeg and streamed in clips of at most 120 s cut \
            at quiet points, so memory stays bounded for long files. Silero VAD finds the speech and only speech \
            reaches whisper: music, noise and silence give no words. The language is detected on the first \
            speech, not on what the file starts with.

            Output: timestamped lines by default; --json (segments with start, end, text, words with their own \
            times, the language and its probability, and a timeline of speech, sound and silence), --srt or \
            --vtt subtitles laid out by the usual conventions (42 characters a line, 2 lines, 17 characters a \
            second). --out writes to a file (atomically) instead of stdout.

            The models come from `recap models install` (whisper-base is multilingual, tiny.en is English only \
            and about 3× faster).

            Examples:
              recap transcribe lecture.mp4
              recap transcribe talk.mkv --model tiny.en --srt --out talk.srt
              recap transcribe interview.m4a --json --language de
            """)

    @Argument(help: ArgumentHelp("The media file.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("base (multilingual) or tiny.en (English, faster).", valueName: "model"))
    var model: String = "base"

    @Option(name: .customLong("model-file"), help: ArgumentHelp("A whisper.cpp ggml model file to use instead.", valueName: "path"))
    var modelFile: String?

    @Option(help: ArgumentHelp("Spoken language (ISO 639-1, e.g. en, de); detected when omitted.", valueName: "code"))
    var language: String?

    @Option(help: ArgumentHelp("CPU threads for whisper.", valueName: "n"))
    var threads: Int = 2

    @Flag(help: "Also give the speech in English (whisper's translate task; base model only). The original stays: --json has both, the text outputs show the English.")
    var translate = false

    @Flag(name: .customLong("no-speakers"), help: "Do not label who speaks when.")
    var noSpeakers = false

    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print SubRip (.srt) subtitles.") var srt = false
    @Flag(help: "Print WebVTT subtitles.") var vtt = false

    @Option(name: .customLong("max-line-chars"), help: ArgumentHelp("Subtitles: longest line (default 42).", valueName: "n"))
    var maxLineChars: Int = 42

    @Option(name: .customLong("max-cps"), help: ArgumentHelp("Subtitles: fastest reading speed in characters per second (default 17; 20 is Netflix's current English guide).", valueName: "n"))
    var maxCPS: Double = 17

    @Option(help: ArgumentHelp("Write the output to this file instead of stdout.", valueName: "file"))
    var out: String?

    func validate() throws {
        if [json, srt, vtt].filter({ $0 }).count > 1 { throw ValidationError("choose one of --json, --srt, --vtt") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64") }
        if modelFile == nil {
            let m = try LocalModel(named: model)
            guard m == .whisperBase || m == .whisperTinyEn else { throw ValidationError("--model must be base or tiny.en") }
            if translate && m == .whisperTinyEn { throw ValidationError("--translate needs the multilingual base model") }
        }
        guard (10...200).contains(maxLineChars) else { throw ValidationError("--max-line-chars must be between 10 and 200") }
        guard (5...60).contains(maxCPS) else { throw ValidationError("--max-cps must be between 5 and 60") }
        if let language, !(2...3).contains(language.count) {
            throw ValidationError("--language takes a code such as en or de")
        }
    }

    func run() async throws {
        let input = URL(fileURLWithPath: file)
        guard FileManager.default.fileExists(atPath: input.path) else {
            throw ValidationError("\(file): no such file")
        }
        let (path, name): (String, String)
        if let modelFile {
            (path, name) = (modelFile, URL(fileURLWithPath: modelFile).deletingPathExtension().lastPathComponent)
        } else {
            let m = try LocalModel(named: model)
            (path, name) = (try ModelCatalog.path(for: m).path, m.rawValue)
        }
        let options = TranscriberOptions(threads: threads, language: language, translate: translate)
        let vad = try VoiceActivity(path: ModelCatalog.path(for: .sileroVAD).path)
        // Speaker labels when the voice encoder is installed (`recap models install voice-encoder`).
        let voices = noSpeakers ? nil : try? VoiceEncoder(path: ModelCatalog.path(for: .voiceEncoder).path)
        let transcriber = try Transcriber(modelPath: path, name: name, vad: vad, voices: voices, options: options)
        let transcript = try await transcriber.transcribe(file: input)
        if isatty(STDERR_FILENO) != 0 && out != nil {
            FileHandle.standardError.write(Data("\(transcript.segments.count) segments, language \(transcript.language ?? "none")\n".utf8))
        }

        let text: String
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            struct Output: Encodable { var file: String; var transcript: Transcript; var text: String }
            text = String(decoding: try e.encode(Output(file: file, transcript: transcript, text: transcript.text)), as: UTF8.self) + "\n"
        } else if srt || vtt {
            let rules = SubtitleRules(maxLineChars: maxLineChars, maxCharsPerSecond: maxCPS)
            let cues = transcript.cues(rules: rules, english: translate)
            text = srt ? SubtitleFormat.srt(cues) : SubtitleFormat.vtt(cues)
        } else {
            text = (translate ? transcript.translation ?? [] : transcript.segments).map {
                "[\(Transcript.stamp($0.start, comma: false)) → \(Transcript.stamp($0.end, comma: false))] \($0.text)\n"
            }.joined()
        }
        if let out {
            let target = URL(fileURLWithPath: out)
            do { try Data(text.utf8).write(to: target, options: .atomic) } catch {
                throw ValidationError("cannot write \(out): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
