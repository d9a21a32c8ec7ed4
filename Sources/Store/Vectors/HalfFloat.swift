import Foundation

/// IEEE 754 half floats, as stored in the embeddings table: half the bytes of `Float`, and for
/// L2-normalised embeddings (components well inside ±1) a precision of about 3 decimal digits, far below
/// what changes a ranking.
///
/// Written by hand rather than with `Float16` so that reading, the hot loop of vector search, is a few
/// integer operations the compiler vectorises on any x86-64 (no F16C needed), and so the byte layout is
/// the same on every platform.
public enum HalfFloat {
    /// Rounds to nearest even; values beyond the half range become ±65504, tiny ones ±0.
    static func bits(_ value: Float) -> UInt16 {
        let f = value.bitPattern
        let sign = UInt16((f >> 16) & 0x8000)
        let exponent = Int((f >> 23) & 0xff) - 127 + 15
        var mantissa = f & 0x7f_ffff
        if value.isNaN { return 0x7e00 }
        if exponent >= 31 { return sign | 0x7bff }
        if exponent <= 0 {
            // Subnormal halves: shift the implicit bit in, then round.
            guard exponent > -10 else { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - exponent)
            var half = mantissa >> shift
            let rest = mantissa & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if rest > halfway || (rest == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(exponent) << 10 | (mantissa >> 13)
        let rest = mantissa & 0x1fff
        if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) { half += 1 }  // may carry into the exponent: right
        return sign | UInt16(min(half, 0x7bff))
    }

    /// Subnormal halves (below 6.1e-5) read as zero: a difference of at most 6e-5 in one component.
    @inline(__always)
    static func value(_ bits: UInt16) -> Float {
        let h = UInt32(bits)
        let magnitude = h & 0x7fff
        let f = magnitude >= 0x0400 ? ((magnitude << 13) &+ 0x3800_0000) : 0
        return Float(bitPattern: ((h & 0x8000) << 16) | f)
    }

    public static func encode(_ vector: [Float]) -> Data {
        var data = Data(count: vector.count * 2)
        data.withUnsafeMutableBytes { raw in
            for (i, v) in vector.enumerated() {
                let b = bits(v).littleEndian
                raw.storeBytes(of: b, toByteOffset: i * 2, as: UInt16.self)
            }
        }
        return data
    }

    static func decode(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<(data.count / 2)).map { value(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        }
    }
}
