import Engine
import Foundation

/// Keeps what the model wrote that the evidence supports, sentence by sentence. A small local model answers in
/// valid JSON that can still say nothing ("c"), loop, or say what was never said ("in-studded winds", a year
/// nobody mentioned); such a sentence is cut, and only a field left with nothing falls back to the extractive
/// pass. A faithful paraphrase survives: words are compared by stem ("baking" ~ "bake", "starter" ~ "start").
///
/// A sentence is grounded when most of its content words occur in the evidence (transcript, on-screen text,
/// file and folder name, metadata, model-written scene descriptions), every number in it does, and every name
/// (a capitalised word inside a sentence) does. Measured frame facts are not vocabulary: the prompt's own
/// labels ("measured frame facts") must not make an answer look grounded.
struct GroundingGate {
    /// Share of a sentence's content words that must occur in the evidence.
    static let minimumShare = 0.7
    let vocabulary: Set<String>

    init(_ e: Evidence) {
        var texts = e.segments.map(\.text) + e.scenes.map(\.ocrText) + [e.fileName] + Array(e.probe.tags.values)
        if e.hasModelDescriptions { texts += e.scenes.map(\.description) }
        // A spoken number ("two hundred and eighty") is no digit string; whisper writes most as digits anyway.
        let words = texts.flatMap { Extractive.words($0) + Self.splitName($0) }
        vocabulary = Set(words + words.map(Self.stem))
    }

    /// Why `text` is not supported, or nil when it is.
    func problem(_ text: String) -> String? {
        let words = Extractive.words(text)
        guard !words.isEmpty else { return "empty" }
        if Self.repeatsItself(text) { return "repeats itself" }
        let known: (String) -> Bool = { vocabulary.contains($0) || vocabulary.contains(Self.stem($0)) }
        if let n = words.first(where: { $0.contains(where: \.isNumber) && !known($0) }) { return "the number \(n) is not in the evidence" }
        if let name = Self.names(text).first(where: { !known($0.lowercased()) }) { return "the name \(name) is not in the evidence" }
        let share = Double(words.filter(known).count) / Double(words.count)
        return share >= Self.minimumShare ? nil : String(format: "only %.0f%% of its words are in the evidence", share * 100)
    }

    func isGrounded(_ text: String) -> Bool { problem(text) == nil }

    /// What the gate did to one field.
    struct Cut: Sendable, Equatable {
        /// The field, as `results.KEY`.
        var field: String
        /// The unsupported sentences or items, with why.
        var claims: [String]
        /// Nothing of the field was kept.
        var whole: Bool
    }

    /// The answer with unsupported text removed: in free-text strings, unsupported sentences (the field goes
    /// only when none is left, or a title/one-liner fails); in arrays, unsupported or repeated items; objects in
    /// arrays (chapters) go when a free-text field of theirs is unsupported. Strings the schema constrains to a
    /// list (`enum`, `const`: a platform name) are choices, not claims.
    func filter(_ answer: JSONValue, schema: JSONValue) -> (JSONValue, cuts: [Cut]) {
        guard var fields = answer.objectValue else { return (answer, []) }
        let props = schema["properties"]?.objectValue ?? [:]
        var cuts: [Cut] = []
        for (key, value) in fields {
            let prop = props[key] ?? .object([:])
            switch value {
            case .string(let s) where Self.isFreeText(prop):
                let (kept, claims) = keepSentences(s, whole: Self.atomic.contains(key))
                if !claims.isEmpty { cuts.append(Cut(field: key, claims: claims, whole: kept == nil)) }
                fields[key] = kept.map(JSONValue.string)
            case .array(let items):
                let itemSchema = prop["items"] ?? .object([:])
                var seen = Set<String>()
                var claims: [String] = []
                let kept = items.filter { item in
                    let texts = freeTexts(item, schema: itemSchema)
                    guard !texts.isEmpty else { return true }  // numbers, choices: nothing to check
                    if let (t, p) = texts.lazy.compactMap({ t in self.problem(t).map { (t, $0) } }).first {
                        claims.append("\"\(t)\" (\(p))"); return false
                    }
                    return seen.insert(item.jsonString().lowercased()).inserted
                }
                if !claims.isEmpty { cuts.append(Cut(field: key, claims: claims, whole: kept.isEmpty)) }
                fields[key] = .array(kept)
            default:
                break
            }
        }
        return (.object(fields), cuts.sorted { $0.field < $1.field })
    }

    /// Fields read as one statement: one unsupported part makes the whole unusable.
    static let atomic: Set<String> = ["title", "one_line", "short_caption", "alt_text"]

    /// The supported sentences of `text` (nil when none is, or when `whole` and any is not), and the claims cut.
    func keepSentences(_ text: String, whole: Bool) -> (String?, [String]) {
        let sentences = Self.sentences(text)
        var kept: [String] = [], claims: [String] = []
        for s in sentences {
            if let p = problem(s) { claims.append("\"\(s)\" (\(p))") } else { kept.append(s) }
        }
        // A loop across sentences is caught on the whole text.
        if Self.repeatsItself(text) && claims.isEmpty { claims.append("\"\(text.prefix(80))…\" (repeats itself)"); kept = [] }
        if kept.isEmpty || (whole && !claims.isEmpty) { return (nil, claims) }
        return (claims.isEmpty ? text : kept.joined(separator: " "), claims)
    }

    private func freeTexts(_ item: JSONValue, schema: JSONValue) -> [String] {
        if let s = item.stringValue { return Self.isFreeText(schema) ? [s] : [] }
        let props = schema["properties"]?.objectValue ?? [:]
        return (item.objectValue ?? [:]).compactMap { k, v in
            v.stringValue.flatMap { Self.isFreeText(props[k] ?? .object([:])) ? $0 : nil }
        }
    }

    static func isFreeText(_ schema: JSONValue) -> Bool { schema["enum"] == nil && schema["const"] == nil }

    /// Sentences of a text, each with its end mark.
    static func sentences(_ text: String) -> [String] {
        var out: [String] = [], current = ""
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            current.append(c)
            // "2.5" and "e.g." do not end a sentence: the mark must be followed by a space (or the end).
            if ".!?\n".contains(c), i + 1 == chars.count || chars[i + 1] == " " || chars[i + 1] == "\n" {
                let s = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !s.isEmpty { out.append(s) }
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { out.append(rest) }
        return out
    }

    /// Names in a sentence: capitalised words that do not open it (nor follow a colon or a quote), apart from
    /// the pronoun "I". "The team met Ingrid Berg in Oslo." → Ingrid, Berg, Oslo.
    static func names(_ sentence: String) -> [String] {
        let tokens = sentence.split(whereSeparator: { $0 == " " || $0 == "\n" })
        // Title Case capitalises every word: there a capital says nothing about a name.
        let capitals = tokens.filter { $0.first?.isUppercase == true }.count
        if tokens.count >= 3, Double(capitals) / Double(tokens.count) > 0.7 { return [] }
        var out: [String] = []
        for (i, raw) in tokens.enumerated() where i > 0 {
            let prev = tokens[i - 1]
            if let last = prev.last, ":;\"“(".contains(last) || ".!?".contains(last) { continue }
            let w = raw.trimmingCharacters(in: CharacterSet.letters.inverted)
            guard let first = w.first, first.isUppercase, w.count > 1, w != "I" else { continue }
            // ALL-CAPS words are emphasis or acronyms; acronyms are checked as words.
            if w.allSatisfy({ $0.isUppercase || !$0.isLetter }) { continue }
            out.append(w)
        }
        return out
    }

    /// Words of a text's CamelCase and hyphenated names, so "SourdoughBasics.mp4" grounds "sourdough".
    static func splitName(_ text: String) -> [String] {
        var parts: [String] = [], current = ""
        for c in text {
            if c.isUppercase, !current.isEmpty, current.last?.isLowercase == true { parts.append(current); current = "" }
            if c.isLetter || c.isNumber { current.append(c) } else if !current.isEmpty { parts.append(current); current = "" }
        }
        if !current.isEmpty { parts.append(current) }
        return parts.map { $0.lowercased() }.filter { $0.count > 2 }
    }

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

    /// A light English stemmer (Porter's first steps): "deltas" → "delta", "baking"/"baked"/"bakes" → "bak",
    /// "starter" → "start", "cities" → "citi". Good enough to match inflections both ways; never used for output.
    static func stem(_ w: String) -> String {
        var s = w
        if s.hasSuffix("'s") { s.removeLast(2) }
        for (suffix, keep) in [("ies", 3), ("ing", 3), ("ers", 3), ("ed", 3), ("er", 3), ("es", 3), ("ly", 3), ("s", 3)] {
            if s.hasSuffix(suffix), s.count - suffix.count >= keep {
                if suffix == "s" && s.hasSuffix("ss") { break }
                s.removeLast(suffix.count)
                break
            }
        }
        // "bake"/"baking" and "make"/"making": drop a final silent e so both meet at "bak"/"mak".
        if s.hasSuffix("e"), s.count > 3 { s.removeLast() }
        return s
    }
}
