import Foundation
import Engine

/// `scripts/standin-openai.py` as a child process: a recording OpenAI-compatible server on 127.0.0.1 that
/// answers with schema-shaped JSON built from what each request holds. The tests read its log of request
/// bodies to check what Recap really sends on the wire.
final class StandInServer {
    let process = Process()
    let log: URL
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    /// `recap` options that use this server as a vLLM-like engine, with no retries.
    var engineArguments: [String] { ["--engine", "openai", "--preset", "vllm", "--base-url", baseURL, "--retries", "0"] }

    init(mode: String = "ok", folder: URL) throws {
        log = folder.appendingPathComponent("requests-\(mode).jsonl")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repoRoot.appendingPathComponent("scripts/standin-openai.py").path, log.path, "--mode", mode]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is the port.
        var line = Data()
        while let b = try out.fileHandleForReading.read(upToCount: 1), !b.isEmpty, b != Data("\n".utf8) { line += b }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else { process.terminate(); throw Failed(why: "the stand-in printed no port") }
        port = p
    }

    struct Failed: Error { var why: String }

    struct Request {
        var method: String
        var path: String
        var headers: [String: String]
        var body: JSONValue
    }

    /// Every request so far, in arrival order.
    func requests() throws -> [Request] {
        guard let all = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        // Only complete lines: the stand-in may be halfway through writing the last one.
        let text = all.hasSuffix("\n") ? all[...] : all[..<(all.lastIndex(of: "\n") ?? all.startIndex)]
        return try text.split(separator: "\n").map { line in
            let j = try JSONValue.parse(String(line))
            var headers: [String: String] = [:]
            for (k, v) in j["headers"]?.objectValue ?? [:] { headers[k.lowercased()] = v.stringValue }
            return Request(method: j["method"]?.stringValue ?? "", path: j["path"]?.stringValue ?? "", headers: headers, body: j["body"] ?? .null)
        }
    }

    /// Chat completions whose `response_format` names `schema` (e.g. "recap_hear").
    func chats(_ schema: String? = nil) throws -> [Request] {
        try requests().filter { r in
            r.path == "/v1/chat/completions" && (schema == nil || r.body["response_format"]?["json_schema"]?["name"]?.stringValue == schema)
        }
    }

    /// SIGKILL: a child of the test runner can inherit a mask that blocks SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }
}

/// The parts of a chat request's user message, by type.
func contentParts(_ body: JSONValue, type: String) -> [JSONValue] {
    (body["messages"]?.arrayValue ?? []).flatMap { $0["content"]?.arrayValue ?? [] }.filter { $0["type"]?.stringValue == type }
}

/// A WAV file's header facts.
struct WAVHeader: Equatable {
    var format: Int, channels: Int, sampleRate: Int, bitsPerSample: Int, seconds: Double

    init?(_ d: Data) {
        let b = [UInt8](d)
        guard b.count >= 44, Array(b[0..<4]) == Array("RIFF".utf8), Array(b[8..<12]) == Array("WAVE".utf8),
              Array(b[12..<16]) == Array("fmt ".utf8) else { return nil }
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        format = u16(20); channels = u16(22); sampleRate = u32(24); bitsPerSample = u16(34)
        guard Array(b[36..<40]) == Array("data".utf8) else { return nil }
        let bytes = u32(40)
        seconds = Double(bytes) / Double(max(1, sampleRate * channels * bitsPerSample / 8))
    }
}

/// A JPEG's width and height, from its start-of-frame marker.
func jpegSize(_ d: Data) -> (width: Int, height: Int)? {
    let b = [UInt8](d)
    guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
    var i = 2
    while i + 9 < b.count {
        guard b[i] == 0xFF else { i += 1; continue }
        let m = b[i + 1]
        if m == 0xC0 || m == 0xC1 || m == 0xC2 {
            return (Int(b[i + 7]) << 8 | Int(b[i + 8]), Int(b[i + 5]) << 8 | Int(b[i + 6]))
        }
        i += 2 + (Int(b[i + 2]) << 8 | Int(b[i + 3]))
    }
    return nil
}
