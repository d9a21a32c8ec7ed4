import Foundation

/// Speech regions packed into one buffer for one whisper call, with the map back to the clip's clock.
///
/// whisper's encoder always reads a 30 s window, so one call per short region would pay for 30 s each time.
/// Packing regions up to ~29 s (with a short pause between them, so whisper still hears the break) pays once,
/// and whatever lay between them (music, silence) never reaches whisper.
struct SpeechBatch {
    struct Piece {
        /// Where the piece starts in the batch buffer and in the clip, and its length (seconds).
        var batchStart: Double
        var clipStart: Double
        var duration: Double
    }

    var samples: [Float]
    var pieces: [Piece]

    static let sampleRate = 16000.0
    /// Silence put between two regions in a batch.
    static let pause = 0.3

    /// Groups `regions` (seconds in `clip`) into batches of at most `maxSeconds` of audio each. A region longer
    /// than that is a batch of its own (whisper slides its window across it).
    static func plan(_ regions: [ClosedRange<Double>], in clip: [Float], maxSeconds: Double = 29) -> [SpeechBatch] {
        var batches: [SpeechBatch] = []
        var current = SpeechBatch(samples: [], pieces: [])
        for r in regions {
            let a = max(0, Int(r.lowerBound * sampleRate)), b = min(clip.count, Int(r.upperBound * sampleRate))
            guard b > a else { continue }
            let length = Double(b - a) / sampleRate
            if !current.pieces.isEmpty && current.duration + pause + length > maxSeconds {
                batches.append(current)
                current = SpeechBatch(samples: [], pieces: [])
            }
            if !current.pieces.isEmpty { current.samples += [Float](repeating: 0, count: Int(pause * sampleRate)) }
            current.pieces.append(Piece(batchStart: current.duration, clipStart: Double(a) / sampleRate, duration: length))
            current.samples += clip[a..<b]
        }
        if !current.pieces.isEmpty { batches.append(current) }
        return batches
    }

    var duration: Double { Double(samples.count) / Self.sampleRate }

    /// A time in the batch buffer, in the clip's clock. A time inside an inserted pause goes to the nearer edge.
    func clipTime(_ t: Double) -> Double {
        guard var best = pieces.first else { return t }
        for p in pieces where t >= p.batchStart - Self.pause / 2 { best = p }
        let offset = min(max(0, t - best.batchStart), best.duration)
        return best.clipStart + offset
    }
}
