import Foundation

/// Runs the helper programs the installer relies on (pip, python3's zipfile, sha256sum) and reports their failures
/// with the tail of their output.
enum Tools {
    /// Runs `tool args`, searching PATH; output goes to a temporary log that is returned on failure.
    @discardableResult
    static func run(_ tool: String, _ args: [String], captureStdout: Bool = false) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("recap-\(tool)-\(getpid())-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let out = try FileHandle(forWritingTo: log)
        defer { try? out.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        p.standardOutput = out
        p.standardError = captureStdout ? FileHandle.nullDevice : out
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw ModelError.toolFailed(tool: tool, reason: "cannot start: \(error.localizedDescription)")
        }
        p.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            let tail = text.split(separator: "\n").suffix(6).joined(separator: "\n")
            let how = p.terminationStatus == 127 ? "\(tool) is not installed" : "exit \(p.terminationStatus)"
            throw ModelError.toolFailed(tool: ([tool] + args.prefix(4)).joined(separator: " "), reason: "\(how)\n\(tail)")
        }
        return text
    }

    /// sha256 of a file, hex (coreutils sha256sum: fast, and always on Debian).
    static func sha256(of url: URL) throws -> String {
        let out = try run("sha256sum", ["--", url.path], captureStdout: true)
        guard let hex = out.split(separator: " ").first, hex.count == 64 else {
            throw ModelError.toolFailed(tool: "sha256sum", reason: "unexpected output for \(url.path)")
        }
        return String(hex)
    }

    static func size(of url: URL) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
    }
}
