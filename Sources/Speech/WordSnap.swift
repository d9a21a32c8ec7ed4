import Foundation

/// Moves whisper's word times onto the audio. whisper.cpp's token timestamps come from timestamp-token
/// probabilities and drift by a few hundred milliseconds, mostly around pauses: a word is placed in the
/// silence before it, or its end runs into the pause after it. Pauses are the one thing the signal says for
/// sure, so each pause is matched to the nearest word boundary (in order, by a small alignment), the two words
/// are made to meet it, and every word is then trimmed to the voiced frames under it.
struct WordSnap {
    /// Loudness of each 10 ms frame of the batch (dBFS), and the level above which a frame is voiced.
    private let levels: [Float]
    private let voicedDB: Float
    static let frame = 0.01
    /// A quiet stretch at least this long between words is a pause.
    static let shortestPause = 0.08
    /// A pause further than this from every word boundary is left alone.
    static let reach = 0.6

    init(samples: [Float]) {
        let levels = Loudness.dbfs(samples, frame: Int(Self.frame * 16000))
        let n = levels.count
        self.levels = levels
        // Voiced: within 35 dB of the batch's loud frames and above −50 dBFS. Relative, so a quiet recording
        // still has voiced frames.
        let loud = levels.sorted().dropFirst(n * 9 / 10).first ?? -120
        voicedDB = max(-50, loud - 35)
    }

    private func voiced(_ i: Int) -> Bool { i >= 0 && i < levels.count && levels[i] >= voicedDB }

    /// Quiet stretches of at least `shortestPause` between `from` and `to` (seconds).
    func pauses(from: Double, to: Double) -> [ClosedRange<Double>] {
        var out: [ClosedRange<Double>] = []
        var start: Int? = nil
        let a = max(0, Int(from / Self.frame)), b = min(levels.count, Int(to / Self.frame) + 1)
        guard b > a else { return [] }
        for i in a..<b {
            if !voiced(i) { start = start ?? i; continue }
            if let s = start, Double(i - s) * Self.frame >= Self.shortestPause { out.append(Double(s) * Self.frame...Double(i) * Self.frame) }
            start = nil
        }
        return out
    }

    /// `words` (times in the batch's clock), snapped. Order is kept; a word never starts before the previous
    /// one ends.
    func snap(_ words: [TimedWord]) -> [TimedWord] {
        guard words.count > 0, !levels.isEmpty else { return words }
        var out = words
        // Boundary j lies between word j and j+1.
        let boundaries = (0..<(out.count - 1)).map { (out[$0].end + out[$0 + 1].start) / 2 }
        let quiet = pauses(from: out[0].start, to: out[out.count - 1].end)
        for (p, j) in Self.align(quiet.map { ($0.lowerBound + $0.upperBound) / 2 }, boundaries, reach: Self.reach) {
            out[j].end = quiet[p].lowerBound
            out[j + 1].start = quiet[p].upperBound
        }
        for k in out.indices {
            // Edges inside silence move in to the voiced frames (never past each other).
            var a = Int((out[k].start / Self.frame).rounded()), b = Int((out[k].end / Self.frame).rounded())
            while a < b && !voiced(a) { a += 1 }
            while b > a && !voiced(b - 1) { b -= 1 }
            if b > a {
                out[k].start = Double(a) * Self.frame
                out[k].end = Double(b) * Self.frame
            }
            if k > 0 { out[k].start = max(out[k].start, out[k - 1].end) }
            out[k].end = max(out[k].end, out[k].start)
        }
        return out
    }

    /// An in-order matching of pauses to boundaries (each used once) that minimises the total distance;
    /// leaving one unmatched costs `reach`, so only pairs closer than that are matched.
    static func align(_ pauses: [Double], _ boundaries: [Double], reach: Double) -> [(Int, Int)] {
        let n = pauses.count, m = boundaries.count
        guard n > 0, m > 0 else { return [] }
        var cost = [[Double]](repeating: [Double](repeating: 0, count: m + 1), count: n + 1)
        for i in 0...n { for j in 0...m where i == 0 || j == 0 { cost[i][j] = Double(i + j) * reach / 2 } }
        for i in 1...n {
            for j in 1...m {
                let d = abs(pauses[i - 1] - boundaries[j - 1])
                let match = d < reach ? cost[i - 1][j - 1] + d : .infinity
                cost[i][j] = min(match, cost[i - 1][j] + reach / 2, cost[i][j - 1] + reach / 2)
            }
        }
        var pairs: [(Int, Int)] = []
        var i = n, j = m
        while i > 0 && j > 0 {
            let d = abs(pauses[i - 1] - boundaries[j - 1])
            if d < reach && cost[i][j] == cost[i - 1][j - 1] + d { pairs.append((i - 1, j - 1)); i -= 1; j -= 1 }
            else if cost[i][j] == cost[i - 1][j] + reach / 2 { i -= 1 } else { j -= 1 }
        }
        return pairs.reversed()
    }
}
