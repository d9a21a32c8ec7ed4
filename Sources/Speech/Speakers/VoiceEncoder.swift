import Foundation
import Models

/// Resemblyzer's GE2E voice encoder, run in Swift: 40 mel bands → a 3-layer LSTM (256) → a linear layer →
/// a 256-d unit vector that is close for the same voice and far for different ones. Weights come from
/// `recap models install voice-encoder` (the PyPI wheel's checkpoint, flattened).
///
/// As Resemblyzer does it: the audio is raised to −30 dBFS (never lowered), cut into 1.6 s partials
/// (160 frames of 10 ms), each partial embedded, and the mean of the partials normalised.
public final class VoiceEncoder: Sendable {
    struct Layer: Sendable {
        var inputs: Int
        /// [1024 × inputs] and [1024 × 256], row-major, gates in PyTorch's order: input, forget, cell, output.
        var wIH: [Float], wHH: [Float]
        /// bias_ih + bias_hh.
        var bias: [Float]
    }

    static let hidden = 256, mels = 40, partialFrames = 160, hop = 160, fft = 400
    let layers: [Layer]
    let linearW: [Float], linearB: [Float]
    let filters: [[Float]]
    /// cos and sin of the 400-point DFT for bins 0...200, and the periodic Hann window.
    let cosTable: [Float], sinTable: [Float], window: [Float]

    /// Loads the flattened weights.
    /// - Throws: `SpeechError.modelLoadFailed` naming the file when it is missing or not that model.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), data.count > 12,
              data.prefix(8) == Data("RCPGE2E1".utf8) else { throw SpeechError.modelLoadFailed(path: path) }
        var tensors: [String: (dims: [Int], values: [Float])] = [:]
        var at = 8
        func i32() throws -> Int {
            guard at + 4 <= data.count else { throw SpeechError.modelLoadFailed(path: path) }
            defer { at += 4 }
            return Int(Int32(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: Int32.self) }))
        }
        for _ in 0..<(try i32()) {
            let n = try i32()
            guard n > 0, at + n <= data.count else { throw SpeechError.modelLoadFailed(path: path) }
            let name = String(decoding: data[(data.startIndex + at)..<(data.startIndex + at + n)], as: UTF8.self)
            at += n
            let dims = try (0..<(try i32())).map { _ in try i32() }
            let count = dims.reduce(1, *)
            guard at + count * 4 <= data.count else { throw SpeechError.modelLoadFailed(path: path) }
            let values = data.withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + $0 * 4, as: UInt32.self))) }
            }
            at += count * 4
            tensors[name] = (dims, values)
        }
        func tensor(_ name: String, _ dims: [Int]) throws -> [Float] {
            guard let t = tensors[name], t.dims == dims else { throw SpeechError.modelLoadFailed(path: path) }
            return t.values
        }
        let h = Self.hidden
        layers = try (0..<3).map { l in
            let inputs = l == 0 ? Self.mels : h
            let bias = zip(try tensor("lstm.bias_ih_l\(l)", [4 * h]), try tensor("lstm.bias_hh_l\(l)", [4 * h])).map { $0 + $1 }
            return Layer(inputs: inputs, wIH: try tensor("lstm.weight_ih_l\(l)", [4 * h, inputs]),
                         wHH: try tensor("lstm.weight_hh_l\(l)", [4 * h, h]), bias: bias)
        }
        linearW = try tensor("linear.weight", [h, h])
        linearB = try tensor("linear.bias", [h])
        filters = MelFilterbank.slaney(nFFT: Self.fft, nMels: Self.mels)
        let bins = Self.fft / 2 + 1
        var c = [Float](repeating: 0, count: bins * Self.fft), s = c
        for k in 0..<bins {
            for n in 0..<Self.fft {
                let angle = 2 * Double.pi * Double(k * n % Self.fft) / Double(Self.fft)
                c[k * Self.fft + n] = Float(cos(angle)); s[k * Self.fft + n] = Float(sin(angle))
            }
        }
        cosTable = c; sinTable = s
        window = (0..<Self.fft).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(Self.fft))) }
    }

    /// The voice of 16 kHz mono `samples` as a 256-d unit vector (nil for less than 0.3 s of audio).
    public func embed(_ samples: [Float]) -> [Float]? {
        guard samples.count >= 4800 else { return nil }
        var wav = samples
        // Raise quiet audio to −30 dBFS, as Resemblyzer's preprocessing does (never lowered).
        let power = wav.reduce(0) { $0 + Double($1) * Double($1) } / Double(wav.count)
        if power > 0 {
            let change = -30 - 10 * log10(power)
            if change > 0 { let g = Float(pow(10, change / 20)); for i in wav.indices { wav[i] *= g } }
        }
        let slices = Self.partials(samples: wav.count)
        if let last = slices.last, last.upperBound * Self.hop > wav.count {
            wav += [Float](repeating: 0, count: last.upperBound * Self.hop - wav.count)
        }
        let mel = melFrames(wav)
        var sum = [Float](repeating: 0, count: Self.hidden)
        for s in slices {
            let frames = Array(mel[(s.lowerBound * Self.mels)..<(min(s.upperBound, mel.count / Self.mels) * Self.mels)])
            let e = partialEmbedding(frames)
            for i in sum.indices { sum[i] += e[i] }
        }
        return Self.normalised(sum)
    }

    /// Resemblyzer's `compute_partial_slices` with rate 1.3 per second and 75 % minimum coverage: frame ranges.
    static func partials(samples: Int) -> [Range<Int>] {
        let frames = Int((Double(samples + 1) / Double(hop)).rounded(.up))
        let step = Int((16000.0 / 1.3 / Double(hop)).rounded())
        var out: [Range<Int>] = []
        var i = 0
        while i < max(1, frames - partialFrames + step + 1) { out.append(i..<(i + partialFrames)); i += step }
        if out.count > 1, let last = out.last {
            let coverage = Double(samples - last.lowerBound * hop) / Double(partialFrames * hop)
            if coverage < 0.75 { out.removeLast() }
        }
        return out
    }

    /// The power mel spectrogram (not log), librosa's defaults: centred frames with zero padding, periodic
    /// Hann window, 400-point DFT every 160 samples. Row-major [frames × 40].
    func melFrames(_ wav: [Float]) -> [Float] {
        let n = Self.fft, half = n / 2, bins = half + 1
        let frames = 1 + wav.count / Self.hop
        var padded = [Float](repeating: 0, count: wav.count + n)
        padded.replaceSubrange(half..<(half + wav.count), with: wav)
        var out = [Float](repeating: 0, count: frames * Self.mels)
        var frame = [Float](repeating: 0, count: n), spectrum = [Float](repeating: 0, count: bins)
        padded.withUnsafeBufferPointer { p in
            cosTable.withUnsafeBufferPointer { c in
                sinTable.withUnsafeBufferPointer { s in
                    for t in 0..<frames {
                        for j in 0..<n { frame[j] = p[t * Self.hop + j] * window[j] }
                        frame.withUnsafeBufferPointer { f in
                            for k in 0..<bins {
                                let re = Kernels.dot(f.baseAddress!, c.baseAddress! + k * n, n)
                                let im = Kernels.dot(f.baseAddress!, s.baseAddress! + k * n, n)
                                spectrum[k] = re * re + im * im
                            }
                        }
                        for m in 0..<Self.mels {
                            var v: Float = 0
                            let f = filters[m]
                            for k in 0..<bins { v += f[k] * spectrum[k] }
                            out[t * Self.mels + m] = v
                        }
                    }
                }
            }
        }
        return out
    }

    /// One partial ([160 × 40] mel frames) through the LSTM and the linear layer, ReLU, normalised.
    func partialEmbedding(_ frames: [Float]) -> [Float] {
        let h = Self.hidden, g = 4 * h
        let steps = frames.count / Self.mels
        var input = frames
        var state = [Float](repeating: 0, count: h)
        for layer in layers {
            // Input projections of every step at once, then the recurrence.
            var projected = [Float](repeating: 0, count: steps * g)
            Kernels.matmulTransposed(input, rows: steps, inner: layer.inputs, layer.wIH, outputs: g, into: &projected)
            var hState = [Float](repeating: 0, count: h), cState = hState
            var gates = [Float](repeating: 0, count: g)
            var outputs = [Float](repeating: 0, count: steps * h)
            for t in 0..<steps {
                Kernels.matvec(layer.wHH, rows: g, columns: h, hState, into: &gates)
                for j in 0..<g { gates[j] += projected[t * g + j] + layer.bias[j] }
                for j in 0..<h {
                    let i = Kernels.sigmoid(gates[j]), f = Kernels.sigmoid(gates[h + j])
                    let c = tanh(gates[2 * h + j]), o = Kernels.sigmoid(gates[3 * h + j])
                    cState[j] = f * cState[j] + i * c
                    hState[j] = o * tanh(cState[j])
                }
                outputs.replaceSubrange((t * h)..<((t + 1) * h), with: hState)
            }
            input = outputs
            state = hState
        }
        var embedding = [Float](repeating: 0, count: h)
        Kernels.matvec(linearW, rows: h, columns: h, state, into: &embedding)
        for j in 0..<h { embedding[j] = max(0, embedding[j] + linearB[j]) }
        return Self.normalised(embedding)
    }

    static func normalised(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }
}

/// The dense loops, on raw buffers, eight lanes at a time: the only hot code in speaker embedding. (A plain
/// `acc += a * b` loop is not vectorised: the compiler keeps float additions in order.)
enum Kernels {
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Σ a[i] · b[i] for i < n.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 8 <= n {
            acc += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var sum = acc.sum()
        while i < n { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    /// out[r] = Σ_c m[r × columns + c] · v[c]
    static func matvec(_ m: [Float], rows: Int, columns: Int, _ v: [Float], into out: inout [Float]) {
        m.withUnsafeBufferPointer { mp in
            v.withUnsafeBufferPointer { vp in
                out.withUnsafeMutableBufferPointer { op in
                    for r in 0..<rows { op[r] = dot(mp.baseAddress! + r * columns, vp.baseAddress!, columns) }
                }
            }
        }
    }

    /// out[i × outputs + o] = Σ_k a[i × inner + k] · w[o × inner + k]  (a · wᵀ)
    static func matmulTransposed(_ a: [Float], rows: Int, inner: Int, _ w: [Float], outputs: Int, into out: inout [Float]) {
        a.withUnsafeBufferPointer { ap in
            w.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    for i in 0..<rows {
                        for o in 0..<outputs { op[i * outputs + o] = dot(ap.baseAddress! + i * inner, wp.baseAddress! + o * inner, inner) }
                    }
                }
            }
        }
    }
}
