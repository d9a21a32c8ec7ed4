import CFFmpeg
import Foundation

/// Frames a decoder could not decode. A few damaged packets are skipped, as the ffmpeg CLI and players do;
/// a decoder that fails many times in a row (or runs out of memory) is broken, and the file fails.
struct DecodeDamage {
    /// Damaged frames skipped so far.
    private(set) var skipped = 0
    private var inARow = 0
    static let limitInARow = 64

    /// Whether the error `rc` from the decoder may be skipped.
    mutating func skip(_ rc: Int32) -> Bool {
        guard rc != recap_averror(ENOMEM), inARow < Self.limitInARow else { return false }
        skipped += 1
        inARow += 1
        return true
    }

    /// A frame decoded: the damage, if any, is behind us.
    mutating func decoded() { inARow = 0 }
}
