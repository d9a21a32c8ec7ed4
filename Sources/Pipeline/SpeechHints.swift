import Foundation

/// What is on screen helps hear: the words of the slides, title cards and the file's own name, given to the
/// recogniser before it listens (whisper's initial prompt). Whisper then spells "Alexandria" and "Oslo" as
/// the slide does, instead of "Malydmandria" and "Russell". Only text that reads as words is kept: OCR noise
/// in a prompt would be heard as speech.
enum SpeechHints {
    /// Whisper keeps the last 224 tokens of a prompt; ~4 characters a token leaves room.
    static let maxCharacters = 600

    static func make(ocrTexts: [String], fileName: String, folder: String?) -> String? {
        var lines: [String] = []
        var seen = Set<String>()
        func add(_ raw: String) {
            let line = raw.split(separator: " ").map(String.init).filter(isWord).joined(separator: " ")
            guard line.filter(\.isLetter).count >= 3, seen.insert(line.lowercased()).inserted else { return }
            // Whisper writes in sentence case; a prompt in capitals would pull its output into capitals.
            lines.append(line == line.uppercased() || line == line.lowercased() ? Summarizer.titleCase(line) : line)
        }
        for text in ocrTexts { for line in text.split(whereSeparator: \.isNewline) { add(String(line)) } }
        let stem = (fileName as NSString).deletingPathExtension
        add(GroundingGate.splitName(stem).joined(separator: " "))
        if let folder { add(GroundingGate.splitName(folder).joined(separator: " ")) }
        guard !lines.isEmpty else { return nil }
        var prompt = ""
        for l in lines {
            let next = prompt.isEmpty ? l : prompt + ". " + l
            if next.count > maxCharacters { break }
            prompt = next
        }
        return prompt + "."
    }

    /// A token that reads as a word or a number: mostly letters (or digits), not OCR debris like "|~-".
    static func isWord(_ token: String) -> Bool {
        let t = token.trimmingCharacters(in: .punctuationCharacters)
        guard !t.isEmpty else { return false }
        let good = t.filter { $0.isLetter || $0.isNumber }.count
        return Double(good) / Double(t.count) >= 0.8 && (t.count >= 2 || t.allSatisfy(\.isNumber))
    }
}
