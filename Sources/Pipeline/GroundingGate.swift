import Engine
import Foundation

/// Keeps only what the model wrote that the evidence supports. A small local model (SmolLM2-135M) answers in
/// valid JSON that can still say nothing ("c") or something that was never said ("in-studded winds"); such a
/// field is dropped here and the extractive pass stands in for it, so the output stays faithful.
///
/// A text counts as grounded when most of its content words (stopwords removed) occur in the transcript,
/// the on-screen text, the file's metadata or model-written scene descriptions. Measured frame facts are not
/// vocabulary: the prompt's own labels ("measured frame facts") must not make an answer look grounded.
struct GroundingGate {
    /// Share of a text's content words that must occur in the evidence.
    static let minimumShare = 0.7
    let vocabulary: Set<String>

    init(_ e: Evidence) {
        var texts = e.segments.map(\.text) + e.scenes.map(\.ocrText) + [e.fileName] + Array(e.probe.tags.values)
        if e.hasModelDescriptions { texts += e.scenes.map(\.description) }
        let words = texts.flatMap { Extractive.words($0) }
        vocabulary = Set(words + words.map(Self.stem))
    }

    func isGrounded(_ text: String) -> Bool {
        let words = Extractive.words(text)
        guard !words.isEmpty, !Self.repeatsItself(text) else { return false }
        let known = words.filter { vocabulary.contains($0) || vocabulary.contains(Self.stem($0)) }.count
        return Double(known) / Double(words.count) >= Self.minimumShare
    }

    /// The model's answer with ungrounded strings removed: top-level strings are dropped, array items filtered
    /// (and de-duplicated), objects in arrays (chapters) kept only when their free-text fields are grounded.
    /// Strings the schema constrains to a list (`enum`, `const`: a platform name) are choices, not claims.
    /// Returns the names of the fields that lost something.
    func filter(_ answer: JSONValue, schema: JSONValue) -> (JSONValue, dropped: [String]) {
        guard var fields = answer.objectValue else { return (answer, []) }
        let props = schema["properties"]?.objectValue ?? [:]
        var dropped: [String] = []
        for (key, value) in fields {
            let prop = props[key] ?? .object([:])
            switch value {
            case .string(let s):
                if Self.isFreeText(prop), !isGrounded(s) { fields[key] = nil; dropped.append(key) }
            case .array(let items):
                let itemSchema = prop["items"] ?? .object([:])
                var seen = Set<String>()
                let kept = items.filter { item in
                    let texts = freeTexts(item, schema: itemSchema)
                    guard !texts.isEmpty else { return true }  // numbers, choices: nothing to check
                    return texts.allSatisfy(isGrounded) && seen.insert(item.jsonString().lowercased()).inserted
                }
                if kept.count < items.count { dropped.append(key) }
                fields[key] = .array(kept)
            default:
                break
            }
        }
        return (.object(fields), dropped.sorted())
    }

    private func freeTexts(_ item: JSONValue, schema: JSONValue) -> [String] {
        if let s = item.stringValue { return Self.isFreeText(schema) ? [s] : [] }
        let props = schema["properties"]?.objectValue ?? [:]
        return (item.objectValue ?? [:]).compactMap { k, v in
            v.stringValue.flatMap { Self.isFreeText(props[k] ?? .object([:])) ? $0 : nil }
        }
    }

    static func isFreeText(_ schema: JSONValue) -> Bool { schema["enum"] == nil && schema["const"] == nil }

    /// A small model's loop: the same sentence twice in one field ("The river carries water. The river
    /// carries water. …"). Every word is grounded, and the text still says one thing over and over.
    static func repeatsItself(_ text: String) -> Bool {
        var seen = Set<[String]>()
        for sentence in text.split(whereSeparator: { ".!?\n".contains($0) }) {
            let words = Extractive.words(String(sentence))
            if words.count >= 3, !seen.insert(words).inserted { return true }
        }
        return false
    }

    /// "deltas" → "delta", "rivers'" → "river": enough to match plural and singular.
    static func stem(_ w: String) -> String {
        w.count > 3 && w.hasSuffix("s") ? String(w.dropLast()) : w
    }
}
