import Foundation

/// GPT-2's byte-level BPE spelling: each byte is shown as a printable character (space is "Ġ", newline "Ċ").
/// CTranslate2's vocabulary.txt uses that spelling; whisper.cpp's model file wants the raw bytes.
enum ByteLevelVocabulary {
    /// Character → byte, the inverse of GPT-2's bytes_to_unicode table: printable Latin-1 bytes map to
    /// themselves, the other 68 bytes to U+0100 onwards in byte order.
    static let decoder: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        var next: UInt32 = 256
        for b in 0...255 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            let scalar: UInt32
            if printable { scalar = UInt32(b) } else { scalar = next; next += 1 }
            table[scalar] = UInt8(b)
        }
        return table
    }()

    /// The raw bytes of one token. Scalars outside the table (special tokens are plain ASCII and all
    /// in it) fall back to their UTF-8 bytes. Scalars, not Characters: no grapheme clustering here.
    static func bytes(of token: Substring) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            if let b = decoder[scalar.value] { out.append(b) } else { out.append(contentsOf: Array(String(scalar).utf8)) }
        }
        return out
    }

    /// vocabulary.txt's lines in id order (one token per line; an empty line is an empty token).
    static func lines(of url: URL) throws -> [Substring] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ModelError.badSourceModel(path: url.path, reason: "cannot read vocabulary: \(error.localizedDescription)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
