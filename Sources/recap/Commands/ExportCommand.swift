import ArgumentParser
import Foundation
import Pipeline
import Store

/// `recap export`: reviewed outputs as fine-tuning data.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the outputs a person corrected as fine-tuning examples (chat-format JSONL).",
        discussion: """
            Every job with a correction (made on `recap serve --review`'s video page) becomes one line: the frames \
            and the audio (16 kHz WAV clips of at most 30 s) the model was given, the transcript and on-screen \
            text, and as the answer the result JSON with the corrections applied. The media go beside the file, \
            in FILE.assets/. The messages follow the Hugging Face chat-template shape for multimodal models \
            (Gemma 3n), which TRL's SFT trainer reads.

            Examples:
              recap export --format sft reviewed.jsonl --out ~/recaps
            """
    )

    @Argument(help: "The JSONL file to write.")
    var file: String

    @Option(name: .long, help: "Export format: sft (the only one so far).")
    var format: String = "sft"

    @Option(name: .long, help: "Job store file.")
    var store: String?

    @Option(name: .long, help: "The output folder of `recap run`, to find its store.")
    var out: String?

    func validate() throws {
        guard format == "sft" else { throw ValidationError("--format \(format): only sft is supported") }
    }

    func run() async throws {
        let db: JobStore
        do { db = try JobStore(url: try StoreChoice.indexFile(store: store, outputFolder: out, command: "export"), options: .init(create: false)) } catch {
            FileHandle.standardError.write(Data("recap export: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let target = URL(fileURLWithPath: (file as NSString).expandingTildeInPath).standardizedFileURL
        let report = try FineTuningExport(store: db).write(to: target)
        for s in report.skipped { FileHandle.standardError.write(Data("recap export: skipped \(s)\n".utf8)) }
        print("recap export: \(report.examples) example\(report.examples == 1 ? "" : "s") (\(report.images) frames, \(report.audioClips) audio clips) in \(target.path)")
        if report.examples == 0 {
            FileHandle.standardError.write(Data("recap export: no corrected outputs in \(db.path); correct titles, summaries or captions on `recap serve --review`'s video pages first\n".utf8))
        }
    }
}
