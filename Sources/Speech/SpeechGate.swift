import Foundation

/// An energy gate in front of whisper: finds the stretches loud enough above the clip's own noise floor to
/// hold speech. Silence never reaches the model, and text whisper places in a gated-out stretch is dropped.
/// (It cannot tell speech from music by itself: for that Transcriber also uses whisper's no-speech
/// probability and drops non-speech tokens and repeats.)
public struct SpeechGate: Sendable, Equatable {
    /// Analysis frame (seconds).
    public var frameSeconds: Double = 0.02
    /// Frames quieter than this are never speech (dBFS).
    public var absoluteFloorDB: Float = -50
    /// Speech must be this much louder than the clip's noise floor (its 10th-percentile frame).
    public var marginDB: Float = 10
    /// Gaps shorter than this inside speech are bridged (pauses between words).
    public var bridgeSeconds: Double = 0.4
    /// Bursts shorter than this are ignored (clicks).
    public var minSpeechSeconds: Double = 0.15
    /// Added on both sides of each region so word onsets and tails are kept.
    public var padSeconds: Double = 0.2

    public init() {}

    /// Speech-like regions of `samples`, in seconds from the clip's start.
    public func regions(in samples: [Float], sampleRate: Int = 16000) -> [ClosedRange<Double>] {
        let frame = max(1, Int(frameSeconds * Double(sampleRate)))
        let db = Loudness.dbfs(samples, frame: frame)
        let n = db.count
        guard n > 0 else { return [] }
        let floor = db.sorted()[n / 10]
        let threshold = max(absoluteFloorDB, floor + marginDB)

        var regions: [ClosedRange<Double>] = []
        var start: Int? = nil
        var lastLoud = -1
        let bridge = Int(bridgeSeconds / frameSeconds)
        for i in 0..<n {
            if db[i] >= threshold {
                if start == nil { start = i }
                lastLoud = i
            } else if let s = start, i - lastLoud > bridge {
                regions.append(Double(s) * frameSeconds...Double(lastLoud + 1) * frameSeconds)
                start = nil
            }
        }
        if let s = start { regions.append(Double(s) * frameSeconds...Double(lastLoud + 1) * frameSeconds) }
        let total = Double(samples.count) / Double(sampleRate)
        return regions
            .filter { $0.upperBound - $0.lowerBound >= minSpeechSeconds }
            .map { max(0, $0.lowerBound - padSeconds)...min(total, $0.upperBound + padSeconds) }
    }

    /// Seconds of `range` covered by `regions`.
    static func overlap(_ range: ClosedRange<Double>, _ regions: [ClosedRange<Double>]) -> Double {
        regions.reduce(0) { acc, r in
            acc + max(0, min(r.upperBound, range.upperBound) - max(r.lowerBound, range.lowerBound))
        }
    }
}
