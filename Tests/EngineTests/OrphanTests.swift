import Foundation
import Testing
@testable import Engine

/// The supervisor never leaves an orphan: a real `recap engine serve` child starts a real llama-server, the
/// test signals recap, then checks by pid that the llama-server is gone.
@Suite(.serialized) struct OrphanTests {
    @Test(arguments: [SIGTERM, SIGINT, SIGKILL])
    func llamaServerDiesWithRecap(signal: Int32) async throws {
        let recap = try Fixtures.recapBinary()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: recap)
        process.arguments = ["engine", "serve", "--json", "--llm-model", try Fixtures.smolLM(), "--no-ocr"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // The first line is {"url":…,"pid":…} once llama-server is healthy.
        let line = try await Fixtures.within(120) { () -> String in
            var data = Data()
            while !data.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
            }
            return String(decoding: data, as: UTF8.self)
        }
        let info = try JSONValue.parse(line.trimmingCharacters(in: .whitespacesAndNewlines))
        let serverPID = try #require(info["pid"]?.stringValue.flatMap { pid_t($0) })
        #expect(serverPID > 0)
        #expect(Fixtures.isAlive(serverPID))
        #expect(info["url"]?.stringValue?.hasPrefix("http://127.0.0.1:") == true)

        kill(process.processIdentifier, signal)
        // Polled, not waitUntilExit(): a blocking wait can't be timed out, and would hang the suite instead of
        // failing it.
        try await Fixtures.within(30) { () async throws -> Bool in
            while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            return true
        }
        if signal != SIGKILL {
            // Stopped its child, then exited with 128 + signal.
            #expect(process.terminationStatus == 128 + signal)
        }
        // Gone (the kernel's parent-death signal covers SIGKILL, which no handler can see).
        var alive = Fixtures.isAlive(serverPID)
        let deadline = ContinuousClock.now + .seconds(10)
        while alive, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            alive = Fixtures.isAlive(serverPID)
        }
        #expect(!alive, "llama-server \(serverPID) outlived recap after signal \(signal)")
    }
}
