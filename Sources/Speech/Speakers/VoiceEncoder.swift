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
        let slices = Self.spread(Self.partials(samples: wav.count), keep: Self.maxPartials)
        if let last = slices.last, last.upperBound * Self.hop > wav.count {
            wav += [Float](repeating: 0, count: last.upperBound * Self.hop - wav.count)
        }
        let t0 = Date()
        let mel = melFrames(wav)
        let t1 = Date()
        defer { if ProcessInfo.processInfo.environment["RECAP_SPEAKER_DEBUG"] == "1" { FileHandle.standardError.write(Data("embed: \(wav.count / 16000) s, \(slices.count) partials, mel \(t1.timeIntervalSince(t0)) s, lstm \(Date().timeIntervalSince(t1)) s\n".utf8)) } }
        let frames = mel.count / Self.mels
        let batch = slices.map { s -> [Float] in
            var p = Array(mel[(s.lowerBound * Self.mels)..<(min(s.upperBound, frames) * Self.mels)])
            p += [Float](repeating: 0, count: Self.partialFrames * Self.mels - p.count)
            return p
        }
        var sum = [Float](repeating: 0, count: Self.hidden)
        for e in partialEmbeddings(batch) { for i in sum.indices { sum[i] += e[i] } }
        return Self.normalised(sum)
    }

    /// A voice is as well told by a few partials as by all of a long segment's: at most this many, spread
    /// evenly, keep the cost per segment bounded (measured: the same labels on the tests' dialogues).
    static let maxPartials = 2

    static func spread(_ slices: [Range<Int>], keep: Int) -> [Range<Int>] {
        guard slices.count > keep, keep > 1 else { return Array(slices.prefix(max(1, keep))) }
        return (0..<keep).map { slices[$0 * (slices.count - 1) / (keep - 1)] }
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

    /// Partials ([160 × 40] mel frames each) through the LSTM together, then the linear layer, ReLU and
    /// normalisation. Stepping them side by side reads each recurrent weight row once for all of them.
    func partialEmbeddings(_ partials: [[Float]]) -> [[Float]] {
        let h = Self.hidden, g = 4 * h, steps = Self.partialFrames, count = partials.count
        guard count > 0 else { return [] }
        var inputs = partials
        var hState = [Float](repeating: 0, count: count * h)
        for layer in layers {
            let projected = inputs.map { x -> [Float] in
                var out = [Float](repeating: 0, count: steps * g)
                Kernels.matmulTransposed(x, rows: steps, inner: layer.inputs, layer.wIH, outputs: g, into: &out)
                return out
            }
            hState = [Float](repeating: 0, count: count * h)
            var cState = hState
            var gates = [Float](repeating: 0, count: count * g)
            var outputs = [[Float]](repeating: [Float](repeating: 0, count: steps * h), count: count)
            for t in 0..<steps {
                // gates[p × g + r] = W_hh[r] · h[p]
                Kernels.matmulTransposed(hState, rows: count, inner: h, layer.wHH, outputs: g, into: &gates)
                for p in 0..<count {
                    for j in 0..<h {
                        let at = p * g
                        let i = Kernels.sigmoid(gates[at + j] + projected[p][t * g + j] + layer.bias[j])
                        let f = Kernels.sigmoid(gates[at + h + j] + projected[p][t * g + h + j] + layer.bias[h + j])
                        let c = tanh(gates[at + 2 * h + j] + projected[p][t * g + 2 * h + j] + layer.bias[2 * h + j])
                        let o = Kernels.sigmoid(gates[at + 3 * h + j] + projected[p][t * g + 3 * h + j] + layer.bias[3 * h + j])
                        cState[p * h + j] = f * cState[p * h + j] + i * c
                        hState[p * h + j] = o * tanh(cState[p * h + j])
                    }
                    outputs[p].replaceSubrange((t * h)..<((t + 1) * h), with: hState[(p * h)..<((p + 1) * h)])
                }
            }
            inputs = outputs
        }
        return (0..<count).map { p in
            var embedding = [Float](repeating: 0, count: h)
            Kernels.matvec(linearW, rows: h, columns: h, Array(hState[(p * h)..<((p + 1) * h)]), into: &embedding)
            for j in 0..<h { embedding[j] = max(0, embedding[j] + linearB[j]) }
            return Self.normalised(embedding)
        }
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

    /// Σ a[i] · b[i] for i < n. Four independent accumulators, so additions do not wait on each other.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = SIMD8<Float>(repeating: 0), s1 = s0, s2 = s0, s3 = s0
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        @inline(__always) func load(_ p: UnsafeRawPointer, _ at: Int) -> SIMD8<Float> { p.loadUnaligned(fromByteOffset: at * 4, as: SIMD8<Float>.self) }
        while i + 32 <= n {
            s0 += load(ra, i) * load(rb, i)
            s1 += load(ra, i + 8) * load(rb, i + 8)
            s2 += load(ra, i + 16) * load(rb, i + 16)
            s3 += load(ra, i + 24) * load(rb, i + 24)
            i += 32
        }
        while i + 8 <= n { s0 += load(ra, i) * load(rb, i); i += 8 }
        var sum = ((s0 + s1) + (s2 + s3)).sum()
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
                    // Weight row outer: each row is read once for every input row (it stays in cache).
                    for o in 0..<outputs {
                        for i in 0..<rows { op[i * outputs + o] = dot(ap.baseAddress! + i * inner, wp.baseAddress! + o * inner, inner) }
                    }
                }
            }
        }
    }
}
