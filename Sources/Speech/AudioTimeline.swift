import Foundation

/// What a stretch of audio holds: speech (Silero VAD), some other sound (music, noise, applause: VAD says it is
/// not speech, yet it is loud), or silence.
public struct AudioSpan: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case speech, sound, silence }
    public var start: Double
    public var end: Double
    public var kind: Kind

    public init(start: Double, end: Double, kind: Kind) { self.start = start; self.end = end; self.kind = kind }
}

enum AudioTimeline {
    /// Frames quieter than this are silence (dBFS). Room tone in a quiet recording sits around −60.
    static let silenceDB: Float = -45
    static let frame = 0.1
    /// Stretches shorter than this are absorbed by their neighbours.
    static let shortest = 0.3

    /// Spans covering the whole clip, in the file's clock (`offset` + clip time).
    static func spans(samples: [Float], speech: [ClosedRange<Double>], offset: Double) -> [AudioSpan] {
        let levels = Loudness.dbfs(samples, frame: Int(frame * 16000), partialLast: true)
        let n = levels.count
        guard n > 0 else { return [] }
        var kinds = levels.map { $0 >= silenceDB ? AudioSpan.Kind.sound : .silence }
        for r in speech {
            let a = max(0, Int(r.lowerBound / frame)), b = min(n, Int((r.upperBound / frame).rounded(.up)))
            if b > a { for i in a..<b { kinds[i] = .speech } }
        }
        var spans: [AudioSpan] = []
        for (i, k) in kinds.enumerated() {
            let t = Double(i) * frame
            if let last = spans.last, last.kind == k { spans[spans.count - 1].end = t + frame } else {
                spans.append(AudioSpan(start: t, end: t + frame, kind: k))
            }
        }
        spans = merge(absorbShort(spans))
        let total = Double(samples.count) / 16000
        return spans.map { AudioSpan(start: round3(offset + $0.start), end: round3(offset + min($0.end, total)), kind: $0.kind) }
    }

    /// Short non-speech blips take the kind of the longer neighbour; speech is never absorbed.
    static func absorbShort(_ spans: [AudioSpan]) -> [AudioSpan] {
        var out = spans
        for i in out.indices where out[i].kind != .speech && out[i].end - out[i].start < shortest {
            let prev = i > 0 ? out[i - 1] : nil, next = i + 1 < out.count ? out[i + 1] : nil
            let candidates = [prev, next].compactMap { $0 }.filter { $0.kind != .speech }
            if let longest = candidates.max(by: { $0.end - $0.start < $1.end - $1.start }) { out[i].kind = longest.kind }
        }
        return out
    }

    /// Joins neighbours of the same kind (also across clip boundaries when called on a whole file).
    static func merge(_ spans: [AudioSpan]) -> [AudioSpan] {
        var out: [AudioSpan] = []
        for s in spans {
            if let last = out.last, last.kind == s.kind, s.start - last.end < 0.05 { out[out.count - 1].end = max(last.end, s.end) }
            else { out.append(s) }
        }
        return out
    }

    static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
