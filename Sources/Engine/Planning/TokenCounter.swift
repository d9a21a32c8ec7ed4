import Foundation

/// Counts the tokens of a text the way an engine's tokenizer will.
public protocol TextTokenCounter: Sendable {
    /// True when counts come from the engine's own tokenizer.
    var isExact: Bool { get }
    func count(_ text: String) async throws -> Int
}

/// The fallback when a server offers no tokenizer: about 4 characters per token for English, plus a 20% margin
/// (code, numbers and other scripts tokenize worse), so plans err on the side of fitting.
public struct EstimatingTokenCounter: TextTokenCounter {
    public var charactersPerToken: Double
    public var margin: Double

    public init(charactersPerToken: Double = 4, margin: Double = 1.2) {
        self.charactersPerToken = charactersPerToken
        self.margin = margin
    }

    public var isExact: Bool { false }

    public func count(_ text: String) async throws -> Int { estimate(text) }

    public func estimate(_ text: String) -> Int {
        guard !text.isEmpty else { return 0 }
        // Count UTF-8 bytes over 1.5 for non-ASCII-heavy text, characters otherwise: the larger wins.
        let byChars = Double(text.count) / charactersPerToken
        let byBytes = Double(text.utf8.count) / (charactersPerToken * 1.5)
        return Int((max(byChars, byBytes) * margin).rounded(.up)) + 1
    }
}
