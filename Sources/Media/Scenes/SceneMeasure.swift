import Foundation

/// Distances between scene thumbnails. Each is 0 for identical pictures and about 0.3–0.6 for unrelated ones.
enum SceneMeasure {
    /// How much the content changed: brightness, colour and structure, equally weighted. Structure is luma
    /// after removing each picture's own brightness and contrast, so a cut between two dark shots scores like
    /// a cut between two bright ones (a plain brightness difference gave dark cuts 0.05 against 0.12 needed).
    static func change(_ a: SceneThumb, _ b: SceneThumb) -> Float {
        (luma(a, b) + 2 * chroma(a, b) + structure(a, b)) / 3
    }

    static func luma(_ a: SceneThumb, _ b: SceneThumb) -> Float { meanAbs(a.y, b.y) }

    static func chroma(_ a: SceneThumb, _ b: SceneThumb) -> Float { (meanAbs(a.u, b.u) + meanAbs(a.v, b.v)) / 2 }

    /// Mean absolute difference of the contrast-normalised luma pictures, halved and capped at 1. Flat
    /// pictures (black, white, one colour) have no structure: 0, and the fade detector speaks for them.
    static func structure(_ a: SceneThumb, _ b: SceneThumb) -> Float {
        guard !a.isFlat, !b.isFlat else { return 0 }
        let ka = 1 / a.std, kb = 1 / b.std
        var s: Float = 0
        a.y.withUnsafeBufferPointer { pa in
            b.y.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { s += abs((pa[i] - a.mean) * ka - (pb[i] - b.mean) * kb) }
            }
        }
        return min(1, s / Float(a.y.count) / 2)
    }

    /// How far `mid` is from the mix (1-alpha)·a + alpha·b, over the coarse pictures. Near 0 inside a
    /// cross-dissolve (and a fade); large for camera motion, where the middle picture is a shifted view,
    /// not a blend of the ends.
    static func blendResidual(_ mid: SceneThumb, _ a: SceneThumb, _ b: SceneThumb, alpha: Float) -> Float {
        var s: Float = 0
        for i in 0..<mid.coarse.count {
            s += abs(mid.coarse[i] - ((1 - alpha) * a.coarse[i] + alpha * b.coarse[i]))
        }
        return s / Float(mid.coarse.count)
    }

    /// The same test at full thumbnail resolution on luma: a zoom or pan over smooth content can pass as
    /// a blend when blurred, not at this scale.
    static func fineResidual(_ mid: SceneThumb, _ a: SceneThumb, _ b: SceneThumb, alpha: Float) -> Float {
        var s: Float = 0
        for i in 0..<mid.y.count { s += abs(mid.y[i] - ((1 - alpha) * a.y[i] + alpha * b.y[i])) }
        return s / Float(mid.y.count)
    }

    static func coarseDistance(_ a: SceneThumb, _ b: SceneThumb) -> Float { meanAbs(a.coarse, b.coarse) }

    private static func meanAbs(_ a: [Float], _ b: [Float]) -> Float {
        var s: Float = 0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<min(pa.count, pb.count) { s += abs(pa[i] - pb[i]) }
            }
        }
        return s / Float(max(1, a.count))
    }
}
