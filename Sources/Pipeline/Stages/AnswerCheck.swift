import Foundation

/// Checks a model's free text before it is stored as the model's: an empty answer, or one that only restates
/// the instructions ("describe video frames accurately briefly"), is no description of the media.
enum AnswerCheck {
    /// Why `answer` cannot stand as the model's, or nil when it can. `instructions` are the fixed words the
    /// model was given (system and task, not the evidence: repeating on-screen text is a fair description).
    static func problem(_ answer: String, instructions: String) -> String? {
        let words = contentWords(answer)
        if words.isEmpty { return "the answer was empty" }
        let prompt = Set(contentWords(instructions))
        let echoed = words.filter { prompt.contains($0) }.count
        // Four in five of its words are the prompt's: a restatement, whatever the order.
        if Double(echoed) >= 0.8 * Double(words.count) { return "the answer only restated the prompt" }
        return nil
    }

    /// Lower-cased words of three letters or more, a plural "s" dropped, without the commonest function words.
    static func contentWords(_ text: String) -> [String] {
        text.lowercased()
            .split { !$0.isLetter && !$0.isNumber }
            .map { $0.count > 3 && $0.hasSuffix("s") && !$0.hasSuffix("ss") ? String($0.dropLast()) : String($0) }
            .filter { $0.count >= 3 && !stopWords.contains($0) }
    }

    static let stopWords: Set<String> = ["the", "and", "with", "this", "that", "for", "are", "was", "from", "you", "your", "one", "two", "its", "his", "her", "their"]
}
