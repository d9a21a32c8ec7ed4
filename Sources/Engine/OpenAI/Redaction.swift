import Foundation

/// What a server says can echo what it was sent, headers included. Every server text that reaches an error
/// (and from there stderr, the `--json` summary or the job store) passes through here first, so the API key
/// is never shown, logged or stored.
enum Redaction {
    static let mask = "[redacted]"

    static func redact(_ text: String, key: String?) -> String {
        var t = text
        if let key, key.count >= 4 {
            // As sent, and as a JSON encoder may have escaped it.
            for form in Set([key, key.replacingOccurrences(of: "/", with: "\\/")]) {
                t = t.replacingOccurrences(of: form, with: mask)
            }
        }
        // Any bearer token or Authorization value echoed back, whoever's it is.
        t = t.replacingOccurrences(of: #"(?i)(bearer\s+)[A-Za-z0-9._~+/=\-]+"#, with: "$1" + mask, options: .regularExpression)
        t = t.replacingOccurrences(of: #"(?i)("?(authorization|x-api-key|api-key)"?\s*[:=]\s*"?)(?!bearer)[^\s",}]+"#, with: "$1" + mask, options: .regularExpression)
        return t
    }
}
