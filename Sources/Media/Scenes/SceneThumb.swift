import CFFmpeg
import Foundation

/// What the scene detector keeps of a frame: a 64x36 luma picture and 32x18 chroma pictures, each cell the
/// mean of a grid of samples read straight from the decoder's planes (no libswscale for the usual 8-bit
/// YUV formats: scaling 1080p with swscale every frame cost more than decoding). Averaging many samples
/// per cell also averages away sensor noise, so a static noisy shot scores near zero.
struct SceneThumb {
    static let width = 64, height = 36
    static let chromaWidth = 32, chromaHeight = 18

    var y: [Float]     // 0...1, width x height
    var u: [Float]     // 0...1 (0.5 = no colour), chromaWidth x chromaHeight
    var v: [Float]
    /// Mean and standard deviation of `y`.
    let mean: Float
    let std: Float
    /// 16x9 luma then 16x9 of each chroma plane: blurred enough that motion inside a shot matters little
    /// when testing whether a frame is a blend of two others (dissolves).
    let coarse: [Float]

    init(y: [Float], u: [Float], v: [Float]) {
        self.y = y; self.u = u; self.v = v
        var s: Float = 0, s2: Float = 0
        for p in y { s += p; s2 += p * p }
        let n = Float(y.count)
        mean = s / n
        std = max(0, s2 / n - mean * mean).squareRoot()
        coarse = Self.shrink(y, Self.width, Self.height, by: 4) + Self.shrink(u, Self.chromaWidth, Self.chromaHeight, by: 2)
            + Self.shrink(v, Self.chromaWidth, Self.chromaHeight, by: 2)
    }

    private static func shrink(_ p: [Float], _ w: Int, _ h: Int, by k: Int) -> [Float] {
        let ow = w / k, oh = h / k
        var out = [Float](repeating: 0, count: ow * oh)
        for y in 0..<oh * k { for x in 0..<ow * k { out[(y / k) * ow + x / k] += p[y * w + x] } }
        let scale = 1 / Float(k * k)
        return out.map { $0 * scale }
    }

    /// Below this standard deviation (≈ 1.5 of 255 levels) a picture has no structure worth comparing:
    /// black, white or a flat colour.
    static let flatStd: Float = 0.006
    var isFlat: Bool { std < Self.flatStd }
    /// Black or white as a fade passes through it (limited-range black decodes to 16/255 ≈ 0.063).
    var isBlack: Bool { isFlat && mean < 0.13 }
    var isWhite: Bool { isFlat && mean > 0.85 }
    /// How far the picture is from the flat colour a fade goes through: falls steadily during a fade-out.
    func energy(towardWhite: Bool) -> Float { (towardWhite ? 1 - mean : mean) + 2 * std }
}

extension SceneThumb {
    /// Builds the thumbnail of a decoded frame. 8-bit YUV (planar, semi-planar or packed) and grey are read
    /// directly; anything else (RGB, 10-bit, paletted) goes through libswscale at thumbnail size first.
    static func make(_ frame: UnsafePointer<AVFrame>, scaler: Scaler, path: String) throws -> SceneThumb {
        let f = frame.pointee
        let w = Int(f.width), h = Int(f.height)
        if let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: f.format)), w >= 2, h >= 2,
           desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BE | AV_PIX_FMT_FLAG_FLOAT) == 0,
           desc.pointee.comp.0.depth == 8 {
            let d = desc.pointee
            let cw = (w + (1 << d.log2_chroma_w) - 1) >> d.log2_chroma_w
            let ch = (h + (1 << d.log2_chroma_h) - 1) >> d.log2_chroma_h
            let y = plane(frame, d.comp.0, w, h, Self.width, Self.height, samples: 3)
            if d.nb_components >= 3 {
                let u = plane(frame, d.comp.1, cw, ch, Self.chromaWidth, Self.chromaHeight, samples: 3)
                let v = plane(frame, d.comp.2, cw, ch, Self.chromaWidth, Self.chromaHeight, samples: 3)
                return SceneThumb(y: y, u: u, v: v)
            }
            let grey = [Float](repeating: 0.5, count: Self.chromaWidth * Self.chromaHeight)
            return SceneThumb(y: y, u: grey, v: grey)
        }
        // Rare formats: libswscale makes packed RGB at thumbnail size (Scaler writes one plane), and the
        // BT.601 equations give luma and chroma; chroma at half size, as the direct path makes it.
        let px = try scaler.convert(frame, dstW: Self.width, dstH: Self.height, dstFormat: AV_PIX_FMT_RGB24,
                                    bytesPerPixel: 3, path: path)
        let n = Self.width * Self.height
        var y = [Float](repeating: 0, count: n), u = y, v = y
        for i in 0..<n {
            let r = Float(px[3 * i]) / 255, g = Float(px[3 * i + 1]) / 255, b = Float(px[3 * i + 2]) / 255
            y[i] = 0.299 * r + 0.587 * g + 0.114 * b
            u[i] = 0.5 - 0.1687 * r - 0.3313 * g + 0.5 * b
            v[i] = 0.5 + 0.5 * r - 0.4187 * g - 0.0813 * b
        }
        return SceneThumb(y: y, u: shrink(u, Self.width, Self.height, by: 2), v: shrink(v, Self.width, Self.height, by: 2))
    }

    /// The mean of `samples` x `samples` evenly spread reads in each of outW x outH cells of one component.
    private static func plane(_ frame: UnsafePointer<AVFrame>, _ comp: AVComponentDescriptor, _ w: Int, _ h: Int,
                              _ outW: Int, _ outH: Int, samples: Int) -> [Float] {
        let planeIndex = Int(comp.plane)
        let base = withUnsafePointer(to: frame.pointee.data) { p in
            p.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0[planeIndex] }
        }
        let stride = withUnsafePointer(to: frame.pointee.linesize) { p in
            p.withMemoryRebound(to: Int32.self, capacity: 8) { Int($0[planeIndex]) }
        }
        guard let base else { return [Float](repeating: 0.5, count: outW * outH) }
        let step = Int(comp.step), offset = Int(comp.offset)
        let sx = min(samples, max(1, w / outW)), sy = min(samples, max(1, h / outH))
        // Byte offsets of the sampled columns, the same on every row.
        var columns = [Int](repeating: 0, count: outW * sx)
        for cx in 0..<outW {
            for i in 0..<sx {
                columns[cx * sx + i] = min(w - 1, (cx * w) / outW + ((2 * i + 1) * w) / (2 * sx * outW)) * step + offset
            }
        }
        let scale = 1 / (Float(sx * sy) * 255)
        return [Float](unsafeUninitializedCapacity: outW * outH) { out, filled in
            columns.withUnsafeBufferPointer { cols in
                for cy in 0..<outH {
                    for cx in 0..<outW { out[cy * outW + cx] = 0 }
                    for j in 0..<sy {
                        let row = min(h - 1, (cy * h) / outH + ((2 * j + 1) * h) / (2 * sy * outH))
                        let line = UnsafePointer(base + row * stride)
                        var c = 0
                        for cx in 0..<outW {
                            var sum = 0
                            for _ in 0..<sx { sum &+= Int(line[cols[c]]); c += 1 }
                            out[cy * outW + cx] += Float(sum)
                        }
                    }
                    for cx in 0..<outW { out[cy * outW + cx] *= scale }
                }
            }
            filled = outW * outH
        }
    }

    /// Fine detail of a decoded frame at its own resolution: the variance of the 4-neighbour Laplacian of
    /// luma at up to 192x108 spread points. A blurred or dark frame scores low. Used to choose each scene's
    /// representative frame, so it reads the real pixels, not the thumbnail. (8-bit formats only; others 0.)
    static func sharpness(_ frame: UnsafePointer<AVFrame>) -> Float {
        let f = frame.pointee
        let w = Int(f.width), h = Int(f.height)
        guard w >= 8, h >= 8, let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: f.format)),
              desc.pointee.comp.0.depth == 8, desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL) == 0,
              let base = f.data.0 else { return 0 }
        let comp = desc.pointee.comp.0
        let step = Int(comp.step), offset = Int(comp.offset), stride = Int(f.linesize.0)
        let nx = min(192, w - 2), ny = min(108, h - 2)
        var sum: Float = 0, sum2: Float = 0
        for j in 0..<ny {
            let y = 1 + j * (h - 2) / ny
            let row = base + y * stride + offset
            for i in 0..<nx {
                let x = (1 + i * (w - 2) / nx) * step
                let c = 4 * Int(row[x])
                let l = c - Int(row[x - step]) - Int(row[x + step]) - Int(row[x - stride]) - Int(row[x + stride])
                let v = Float(l)
                sum += v; sum2 += v * v
            }
        }
        let n = Float(nx * ny)
        let mean = sum / n
        return max(0, sum2 / n - mean * mean) / (255 * 255)
    }
}
