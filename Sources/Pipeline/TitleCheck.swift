import Foundation

/// What makes a title unusable for a person scanning a library: nothing, an error or apology, a timestamp or
/// file-system junk in place of words, or a sentence too long to read at a glance. `make eval` counts the same
/// rules (eval/score.py) over every file.
enum TitleCheck {
    static let maxLength = 80

    /// Why `title` is not a title, or nil when it is one. `fileName` is the input's name.
    static func problem(_ title: String, fileName: String = "") -> String? {
        let t = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = t.lowercased()
        if Extractive.words(t).filter({ !$0.allSatisfy(\.isNumber) }).isEmpty { return "no words" }
        if t.count > maxLength { return "longer than \(maxLength) characters" }
        let apologies = ["no speech", "nothing to", "no on-screen text", "not found", "cannot ", "can't ", "unable to",
                         "error", "i'm sorry", "as an ai", "no transcript", "not available", "n/a"]
        if let a = apologies.first(where: lower.contains) { return "an error or apology (\"\(a.trimmingCharacters(in: .whitespaces))\")" }
        if lower.range(of: #"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}(:\d{2})?|\d{8}t\d{4}"#, options: .regularExpression) != nil {
            return "a date or time stamp"
        }
        if lower.range(of: #"\.(mp4|mkv|mov|avi|webm|m4a|mp3|wav|flac|json|srt|vtt|jpe?g|png)\b|[/\\_]"#, options: .regularExpression) != nil {
            return "file-system junk"
        }
        let stem = (fileName as NSString).deletingPathExtension.lowercased()
        if !stem.isEmpty, lower == stem { return "the file name" }
        return nil
    }
}
