import Foundation

/// Turns texts into vectors whose cosine says how close their meanings are (issue 14: search by meaning).
/// Vectors are L2-normalised (a dot product is the cosine), one per input, in input order.
public protocol TextEmbedder: Sendable {
    /// Names the model, so stored vectors can be told apart from another model's (they do not mix).
    var modelID: String { get }
    func embed(_ texts: [String]) async throws -> [[Float]]
}

public enum EmbeddingMath {
    /// `v` scaled to length 1 (a zero vector stays zero: an empty text has no direction).
    public static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 / norm } : v
    }

    /// Cosine similarity; for normalised vectors, their dot product.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors of different lengths")
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in a.indices {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
    }

    /// Whitespace-separated words in `text`.
    public static func wordCount(_ text: String) -> Int {
        text.split(whereSeparator: \.isWhitespace).count
    }

    /// The first `maxWords` whitespace-separated words of `text`, joined by single spaces (the text itself when
    /// it is shorter). Cutting by words keeps every piece the model sees whole.
    public static func truncated(_ text: String, maxWords: Int) -> String {
        var words = 0
        var end = text.startIndex
        var inWord = false
        for i in text.indices {
            if text[i].isWhitespace {
                if inWord { inWord = false; end = i }
            } else if !inWord {
                inWord = true
                words += 1
                if words > maxWords { return String(text[..<end]) }
            }
        }
        return text
    }
}
