import Foundation

/// 16-bit PCM mono WAV bytes for `input_audio` (the format every server's audio loader reads).
enum WAV {
    static func encode(samples: [Float], sampleRate: Int = EngineAudio.sampleRate) -> Data {
        let dataBytes = samples.count * 2
        var d = Data(capacity: 44 + dataBytes)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + dataBytes))
        d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(1)
        u32(UInt32(sampleRate)); u32(UInt32(sampleRate * 2)); u16(2); u16(16)
        d.append(contentsOf: Array("data".utf8)); u32(UInt32(dataBytes))
        var pcm = [Int16](repeating: 0, count: samples.count)
        for (i, s) in samples.enumerated() {
            let clamped = s.isFinite ? max(-1, min(1, s)) : 0
            pcm[i] = Int16((clamped * 32767).rounded()).littleEndian
        }
        pcm.withUnsafeBytes { d.append(contentsOf: $0) }
        return d
    }
}
