import Foundation

/// The loudness of consecutive frames of a clip, in dBFS (−120 for digital silence): what the energy gate,
/// the timeline and the word snapping each measure the audio by.
enum Loudness {
    /// One value per `frame` samples; a shorter last frame counts too when `partialLast` is set.
    static func dbfs(_ samples: [Float], frame: Int, partialLast: Bool = false) -> [Float] {
        let n = partialLast ? (samples.count + frame - 1) / frame : samples.count / frame
        guard frame > 0, n > 0 else { return [] }
        var levels = [Float](repeating: -120, count: n)
        samples.withUnsafeBufferPointer { buf in
            for i in 0..<n {
                let a = i * frame, b = min(buf.count, a + frame)
                var sum: Float = 0
                for j in a..<b { sum += buf[j] * buf[j] }
                let rms = (sum / Float(b - a)).squareRoot()
                levels[i] = rms > 1e-6 ? 20 * log10(rms) : -120
            }
        }
        return levels
    }
}
