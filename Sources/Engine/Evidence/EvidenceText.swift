import Foundation

/// How measured inputs are written into a prompt for a model that cannot see or hear: each line says what
/// produced it (OCR software, pixel measurements, a speech recogniser), so neither the model nor a reader can
/// mistake it for a caption made by looking.
enum EvidenceText {
    static let preamble = """
        You cannot see images or hear audio. In their place you get measurements made by software, labelled:
        [OCR] text recognised on screen by OCR (may contain errors); [PIXELS] numbers measured from the frame's \
        pixels (brightness, colours, motion), which do not say what is shown; [SPEECH] words recognised by a speech \
        recogniser. Use only what these say. Do not invent what the pictures show.
        """

    static func timeLabel(_ t: Double?) -> String {
        guard let t else { return "" }
        let s = Int(t.rounded(.down))
        return String(format: " at %d:%02d", s / 60, s % 60)
    }

    static func pixels(_ f: FrameFacts, time: Double?) -> String {
        var bits: [String] = []
        if let b = f.brightness { bits.append(String(format: "brightness %.2f (0 black, 1 white)", b)) }
        if !f.dominantColors.isEmpty { bits.append("dominant colours " + f.dominantColors.prefix(4).joined(separator: ", ")) }
        if let m = f.motion { bits.append(String(format: "motion since previous frame %.2f (0–1)", m)) }
        if let s = f.sceneScore { bits.append(String(format: "scene-change score %.2f (0–1)", s)) }
        for k in f.other.keys.sorted() { bits.append(String(format: "%@ %.2f", k, f.other[k]!)) }
        return "[PIXELS] frame\(timeLabel(time)): " + (bits.isEmpty ? "no measurements" : bits.joined(separator: "; "))
    }

    static func ocr(_ text: String, time: Double?, maxCharacters: Int) -> String {
        let flat = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " / ")
        if flat.isEmpty { return "[OCR] frame\(timeLabel(time)): no text found on screen" }
        let clipped = flat.count > maxCharacters ? String(flat.prefix(maxCharacters)) + "…" : flat
        // JSON-style quoting keeps the boundary of recognised text unambiguous.
        let quoted = (try? String(decoding: JSONEncoder().encode(clipped), as: UTF8.self)) ?? clipped
        return "[OCR] frame\(timeLabel(time)): on-screen text \(quoted)"
    }

    static func speech(_ text: String, start: Double?, seconds: Double, model: String) -> String {
        let span = start.map { String(format: " %.1f–%.1f s", $0, $0 + seconds) } ?? ""
        let words = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if words.isEmpty { return "[SPEECH]\(span) (\(model)): no speech detected" }
        return "[SPEECH]\(span) (\(model)): \(words)"
    }
}
