import Foundation

/// `{name}` templates. Inputs are plain text that the pipeline labels for what it is (measured, OCR,
/// transcript); a model's own output never goes back into a template unlabelled.
public enum PromptTemplate {
    /// Placeholder names in order of appearance: `{transcript}` → "transcript". `{{` escapes a brace.
    public static func placeholders(in template: String) -> [String] {
        var names: [String] = []
        scan(template) { piece in if case .input(let n) = piece { names.append(n) } }
        return names
    }

    /// Fills a template. A missing input becomes "(none)", so a prompt never shows a raw `{name}`.
    public static func render(_ template: String, inputs: [String: String]) -> String {
        var out = ""
        scan(template) { piece in
            switch piece {
            case .text(let t): out += t
            case .input(let n):
                let v = inputs[n]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                out += v.isEmpty ? "(none)" : v
            }
        }
        return out
    }

    enum Piece { case text(String), input(String) }

    static func scan(_ t: String, _ emit: (Piece) -> Void) {
        var i = t.startIndex
        var text = ""
        while i < t.endIndex {
            let c = t[i]
            let next = t.index(after: i)
            if c == "{", next < t.endIndex, t[next] == "{" { text.append("{"); i = t.index(after: next); continue }
            if c == "}", next < t.endIndex, t[next] == "}" { text.append("}"); i = t.index(after: next); continue }
            if c == "{", let close = t[next...].firstIndex(of: "}") {
                let name = String(t[next..<close])
                if name.range(of: #"^[a-z_]+$"#, options: .regularExpression) != nil {
                    if !text.isEmpty { emit(.text(text)); text = "" }
                    emit(.input(name))
                    i = t.index(after: close)
                    continue
                }
            }
            text.append(c)
            i = next
        }
        if !text.isEmpty { emit(.text(text)) }
    }
}
