import Foundation
import Testing

/// Audio made for the tests with the real espeak-ng and ffmpeg CLIs (installed by scripts/install-debian.sh):
/// speech with known words and times, and sounds that hold no speech at all.
enum SynthAudio {
    static let rate = 16000.0

    /// 16 kHz mono samples of whatever ffmpeg reads from `input` (a file or a lavfi graph with `-f lavfi`).
    static func decode(_ arguments: [String]) throws -> [Float] {
        let data = try run("/usr/bin/ffmpeg", ["-v", "error", "-nostdin"] + arguments + ["-ac", "1", "-ar", "16000", "-f", "f32le", "-"])
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// espeak-ng saying `text`, trimmed of the silence it puts before and after.
    static func say(_ text: String, voice: String = "en-us", wpm: Int = 150) throws -> [Float] {
        let wav = FileManager.default.temporaryDirectory.appendingPathComponent("recap-say-\(UUID().uuidString).wav")
        defer { try? FileManager.default.removeItem(at: wav) }
        _ = try run("/usr/bin/espeak-ng", ["-v", voice, "-s", "\(wpm)", "-w", wav.path, text])
        return trim(try decode(["-i", wav.path]))
    }

    /// Without leading and trailing samples quieter than −50 dBFS (espeak-ng pads its output).
    static func trim(_ s: [Float]) -> [Float] {
        let loud: (Float) -> Bool = { abs($0) > 0.003 }
        guard let a = s.firstIndex(where: loud), let b = s.lastIndex(where: loud) else { return [] }
        return Array(s[a...b])
    }

    static func silence(_ seconds: Double) -> [Float] { [Float](repeating: 0, count: Int(seconds * rate)) }

    /// Non-speech sounds of `seconds`, each a different kind of trap for a recogniser.
    static func sound(_ kind: String, seconds: Double = 10) throws -> [Float] {
        let d = String(seconds)
        switch kind {
        case "silence": return silence(seconds)
        case "tone": return try decode(["-f", "lavfi", "-i", "sine=f=440:d=\(d):sample_rate=16000"])
        case "noise": return try decode(["-f", "lavfi", "-i", "anoisesrc=d=\(d):c=pink:a=0.1:r=16000"])
        case "applause":
            // Dense random clicks, as a clapping audience.
            return try decode(["-f", "lavfi", "-i", "aevalsrc=(random(0)-0.5)*0.8*gt(random(1)\\,0.85):s=16000:d=\(d)"])
        case "music":
            // A stepping melody with tremolo over a bass note and a percussive tick twice a second.
            let expr = "0.25*sin(2*PI*(220*pow(2\\,floor(mod(t*3\\,8))/12))*t)*(0.5+0.5*sin(2*PI*3*t))"
                + "+0.15*sin(2*PI*110*t)+0.1*(random(0)-0.5)*lt(mod(t\\,0.5)\\,0.05)"
            return try decode(["-f", "lavfi", "-i", "aevalsrc=\(expr):s=16000:d=\(d)"])
        case "tremolo":
            // A pure-tone melody pulsing at a syllable's rate: Silero VAD takes it for singing (probability ≈ 1),
            // so only whisper's own guards stand between it and invented words.
            let expr = "0.25*sin(2*PI*(220*pow(2\\,floor(mod(t*3\\,8))/12))*t)*(0.5+0.5*sin(2*PI*3*t))+0.15*sin(2*PI*110*t)"
            return try decode(["-f", "lavfi", "-i", "aevalsrc=\(expr):s=16000:d=\(d)"])
        case "music-sample":
            return try decode(["-i", TestEnv.sample("music.mp4").path, "-vn"])
        default: throw SynthError(message: "no sound named \(kind)")
        }
    }

    struct SynthError: Error { var message: String }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            throw SynthError(message: "\(tool) is missing (scripts/install-debian.sh installs it): \(error)")
        }
        // Read before waiting: a full pipe would block the tool.
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw SynthError(message: "\(tool) \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return data
    }
}
