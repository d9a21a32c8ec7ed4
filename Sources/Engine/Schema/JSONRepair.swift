import Foundation

/// Mechanical fixes for the two ways small models break JSON: prose or code fences around the document, and a
/// document cut off by the token limit. The fix never invents content: it drops a dangling partial member and
/// closes what is open. The result is then parsed and validated like any answer.
public enum JSONRepair {
    /// The text between the first `{` or `[` and the end, without Markdown code fences.
    public static func extractDocument(_ text: String) -> String {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.hasPrefix("```") {
            if let nl = t.firstIndex(of: "\n") { t = String(t[t.index(after: nl)...]) }
            if let fence = t.range(of: "```", options: .backwards) { t = String(t[..<fence.lowerBound]) }
        }
        if let start = t.firstIndex(where: { $0 == "{" || $0 == "[" }) { t = String(t[start...]) }
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Closes a truncated JSON document: ends at the last complete value, drops a trailing comma, a key without
    /// a value or a partial literal or string, then closes open arrays and objects in order. Returns nil when the
    /// text is not the beginning of a JSON object or array.
    public static func closeTruncated(_ text: String) -> String? {
        let chars = Array(extractDocument(text))
        guard let first = chars.first, first == "{" || first == "[" else { return nil }

        var stack: [Character] = []       // expected closers
        var expectingKey = false          // inside an object, before a key
        var safeEnd = 0                   // chars[0..<safeEnd] can be closed cleanly
        var stackAtSafe: [Character] = []
        func markSafe(_ end: Int) { safeEnd = end; stackAtSafe = stack }

        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\"":
                // Scan the whole string; a cut-off string is never safe.
                var j = i + 1
                var escaped = false
                var closed = false
                while j < chars.count {
                    if escaped { escaped = false } else if chars[j] == "\\" { escaped = true } else if chars[j] == "\"" { closed = true; break }
                    j += 1
                }
                guard closed else { i = chars.count; continue }
                let wasKey = stack.last == "}" && expectingKey
                if !wasKey { markSafe(j + 1) }
                i = j + 1
                continue
            case "{":
                stack.append("}"); expectingKey = true; markSafe(i + 1)
            case "[":
                stack.append("]"); expectingKey = false; markSafe(i + 1)
            case "}", "]":
                guard stack.last == c else { return nil }
                stack.removeLast()
                expectingKey = false
                markSafe(i + 1)
                if stack.isEmpty { return String(chars[0..<(i + 1)]) }  // whole; trailing junk dropped
            case ":":
                expectingKey = false
            case ",":
                expectingKey = stack.last == "}"
            case "-", "0"..."9", "t", "f", "n":
                var j = i
                while j < chars.count, "0123456789-+.eEtruefalsn".contains(chars[j]) { j += 1 }
                // A literal at the very end may be cut ("tr", "12" of "123"): only safe if something follows it.
                if j < chars.count, isWholeLiteral(String(chars[i..<j])) { markSafe(j) }
                i = j
                continue
            default:
                break
            }
            i += 1
        }
        // Keys and ':' are never safe ends, so a member whose value was cut disappears with its key.
        var out = Array(chars[0..<safeEnd])
        while let last = out.last, last == "," || last.isWhitespace { out.removeLast() }
        var result = String(out)
        for closer in stackAtSafe.reversed() { result.append(closer) }
        return result
    }

    private static func isWholeLiteral(_ s: String) -> Bool {
        if s == "true" || s == "false" || s == "null" { return true }
        return Double(s) != nil
    }
}
