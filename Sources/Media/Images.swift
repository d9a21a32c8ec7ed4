import Foundation

/// A packed 8-bit RGB picture (3 bytes per pixel, rows without padding).
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage: pixel count does not match size")
        self.width = width; self.height = height; self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8)) {
        self.width = width; self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: p.count, by: 3) { p[i] = fill.0; p[i + 1] = fill.1; p[i + 2] = fill.2 }
        pixels = p
    }

    /// Turned clockwise by 0, 90, 180 or 270 degrees, optionally mirrored first (display-matrix order).
    func oriented(rotation: Int, mirrored: Bool) -> RGBImage {
        var img = self
        if mirrored { img = img.mirroredHorizontally() }
        switch rotation {
        case 90: return img.rotatedClockwise()
        case 180: return img.rotatedClockwise().rotatedClockwise()
        case 270: return img.rotatedClockwise().rotatedClockwise().rotatedClockwise()
        default: return img
        }
    }

    func rotatedClockwise() -> RGBImage {
        let w = width, h = height
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                // Source (x, y) lands at (h - 1 - y, x) in the h-wide result.
                for y in 0..<h {
                    for x in 0..<w {
                        let s = (y * w + x) * 3, d = (x * h + (h - 1 - y)) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return RGBImage(width: h, height: w, pixels: out)
    }

    func mirroredHorizontally() -> RGBImage {
        var out = pixels
        for y in 0..<height {
            for x in 0..<width {
                let s = (y * width + x) * 3, d = (y * width + (width - 1 - x)) * 3
                out[d] = pixels[s]; out[d + 1] = pixels[s + 1]; out[d + 2] = pixels[s + 2]
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// BT.601 luma.
    public func grayscale() -> GrayImage {
        var g = [UInt8](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            let r = Int(pixels[i * 3]), gr = Int(pixels[i * 3 + 1]), b = Int(pixels[i * 3 + 2])
            g[i] = UInt8((r * 299 + gr * 587 + b * 114 + 500) / 1000)
        }
        return GrayImage(width: width, height: height, pixels: g)
    }

    /// Copies `tile` with its top-left corner at (x, y), clipping at the edges.
    mutating func blit(_ tile: RGBImage, x: Int, y: Int) {
        for ty in 0..<tile.height where y + ty >= 0 && y + ty < height {
            for tx in 0..<tile.width where x + tx >= 0 && x + tx < width {
                let s = (ty * tile.width + tx) * 3, d = ((y + ty) * width + x + tx) * 3
                pixels[d] = tile.pixels[s]; pixels[d + 1] = tile.pixels[s + 1]; pixels[d + 2] = tile.pixels[s + 2]
            }
        }
    }

    mutating func fillRect(x: Int, y: Int, w: Int, h: Int, color: (UInt8, UInt8, UInt8)) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) {
                let d = (yy * width + xx) * 3
                pixels[d] = color.0; pixels[d + 1] = color.1; pixels[d + 2] = color.2
            }
        }
    }
}

/// An 8-bit grayscale picture (1 byte per pixel, rows without padding), e.g. for OCR.
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height, "GrayImage: pixel count does not match size")
        self.width = width; self.height = height; self.pixels = pixels
    }

    /// Box-filtered down to w x h (for scene and motion scores, where detail is noise).
    func downscaled(to w: Int, _ h: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: w * h)
        for oy in 0..<h {
            let y0 = oy * height / h, y1 = max(y0 + 1, (oy + 1) * height / h)
            for ox in 0..<w {
                let x0 = ox * width / w, x1 = max(x0 + 1, (ox + 1) * width / w)
                var sum = 0, n = 0
                for y in y0..<min(y1, height) { for x in x0..<min(x1, width) { sum += Int(pixels[y * width + x]); n += 1 } }
                out[oy * w + ox] = UInt8(n > 0 ? sum / n : 0)
            }
        }
        return out
    }
}
