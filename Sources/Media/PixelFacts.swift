import Foundation

/// Measured facts about a frame's pixels: the engine's "visual evidence" when no vision model runs.
public struct PixelFacts: Codable, Sendable, Equatable {
    /// Mean luma, 0 (black) to 1 (white).
    public var brightness: Double
    /// Standard deviation of luma, 0 (flat) to about 0.5 (half black, half white).
    public var contrast: Double
    /// The most common coarse colours, largest share first (shares of the whole frame, 0...1).
    public var dominantColors: [NamedColorShare]
    /// Mean absolute luma difference from the previously sampled frame (0...1); nil for the first frame.
    public var motion: Double?
    /// How different this frame's luma histogram is from the previous sampled frame's (0...1); for
    /// `--scenes`, the detector's cut score. nil for the first frame.
    public var sceneChange: Double?
    /// Focus: the variance of the Laplacian of luma (every 2nd pixel), scaled to 0...1 (blurred or flat
    /// pictures near 0; crisp detail 0.1 and up). Picks covers that are in focus.
    public var sharpness: Double?
}

public struct NamedColorShare: Codable, Sendable, Equatable {
    public var name: String
    public var share: Double
}

/// Small derived summaries kept between frames to score motion and change.
struct FrameSignature: Sendable {
    static let width = 32, height = 18
    var thumb: [UInt8]          // 32x18 luma
    var histogram: [Double]     // 16 luma bins, normalised

    init(gray: GrayImage) {
        thumb = gray.downscaled(to: Self.width, Self.height)
        var h = [Double](repeating: 0, count: 16)
        for p in gray.pixels { h[Int(p) >> 4] += 1 }
        let n = Double(max(1, gray.pixels.count))
        histogram = h.map { $0 / n }
    }

    func motion(from other: FrameSignature) -> Double {
        var sum = 0
        for i in 0..<thumb.count { sum += abs(Int(thumb[i]) - Int(other.thumb[i])) }
        return Double(sum) / Double(thumb.count) / 255
    }

    func histogramDistance(from other: FrameSignature) -> Double {
        var d = 0.0
        for i in 0..<16 { d += abs(histogram[i] - other.histogram[i]) }
        return d / 2
    }
}

enum PixelAnalysis {
    static func facts(rgb: RGBImage, gray: GrayImage, previous: FrameSignature?, signature: FrameSignature) -> PixelFacts {
        var sum = 0.0, sumSq = 0.0
        for p in gray.pixels { let v = Double(p); sum += v; sumSq += v * v }
        let n = Double(max(1, gray.pixels.count))
        let mean = sum / n
        let variance = max(0, sumSq / n - mean * mean)
        return PixelFacts(
            brightness: round4(mean / 255),
            contrast: round4(variance.squareRoot() / 255),
            dominantColors: dominantColors(rgb),
            motion: previous.map { round4(signature.motion(from: $0)) },
            sceneChange: previous.map { round4(signature.histogramDistance(from: $0)) },
            sharpness: round4(sharpness(gray)))
    }

    /// Variance of the 4-neighbour Laplacian over every 2nd pixel, divided by 255² / 16 so it sits in 0...1.
    static func sharpness(_ g: GrayImage) -> Double {
        guard g.width >= 3, g.height >= 3 else { return 0 }
        var sum = 0.0, sumSq = 0.0, n = 0.0
        g.pixels.withUnsafeBufferPointer { p in
            for y in stride(from: 1, to: g.height - 1, by: 2) {
                let row = y * g.width
                for x in stride(from: 1, to: g.width - 1, by: 2) {
                    let c = Int(p[row + x]) * 4
                    let l = c - Int(p[row + x - 1]) - Int(p[row + x + 1]) - Int(p[row - g.width + x]) - Int(p[row + g.width + x])
                    let v = Double(l)
                    sum += v; sumSq += v * v; n += 1
                }
            }
        }
        guard n > 0 else { return 0 }
        let variance = max(0, sumSq / n - (sum / n) * (sum / n))
        return min(1, variance / (255 * 255 / 16))
    }

    /// Up to three coarse colour names covering at least 5% of the frame each (every 2nd pixel sampled).
    static func dominantColors(_ img: RGBImage) -> [NamedColorShare] {
        var counts: [String: Int] = [:]
        var total = 0
        let step = img.width * img.height > 40_000 ? 2 : 1
        var y = 0
        while y < img.height {
            var x = 0
            while x < img.width {
                let i = (y * img.width + x) * 3
                counts[colorName(r: img.pixels[i], g: img.pixels[i + 1], b: img.pixels[i + 2]), default: 0] += 1
                total += 1
                x += step
            }
            y += step
        }
        let denominator = Double(max(1, total))
        var shares: [NamedColorShare] = []
        for (name, count) in counts {
            let share = round4(Double(count) / denominator)
            if share >= 0.05 { shares.append(NamedColorShare(name: name, share: share)) }
        }
        shares.sort { (a: NamedColorShare, b: NamedColorShare) -> Bool in
            a.share != b.share ? a.share > b.share : a.name < b.name
        }
        return Array(shares.prefix(3))
    }

    /// A coarse, human colour name from hue, saturation and value.
    static func colorName(r: UInt8, g: UInt8, b: UInt8) -> String {
        let rf = Double(r) / 255, gf = Double(g) / 255, bf = Double(b) / 255
        let mx = max(rf, gf, bf), mn = min(rf, gf, bf)
        let v = mx, d = mx - mn
        let s = mx == 0 ? 0 : d / mx
        if v < 0.16 { return "black" }
        if s < 0.18 || d < 0.08 { return v > 0.85 ? "white" : "gray" }
        var h: Double
        if mx == rf { h = 60 * ((gf - bf) / d).truncatingRemainder(dividingBy: 6) }
        else if mx == gf { h = 60 * ((bf - rf) / d + 2) }
        else { h = 60 * ((rf - gf) / d + 4) }
        if h < 0 { h += 360 }
        switch h {
        case ..<15, 345...: return v < 0.5 && s > 0.5 ? "brown" : (s < 0.5 && v > 0.7 ? "pink" : "red")
        case ..<40: return v < 0.6 ? "brown" : "orange"
        case ..<70: return v < 0.5 ? "olive" : "yellow"
        case ..<160: return "green"
        case ..<200: return "cyan"
        case ..<255: return "blue"
        case ..<290: return "purple"
        default: return "pink"
        }
    }

    static func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
}
