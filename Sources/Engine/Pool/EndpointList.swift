import Foundation

/// The servers a user named: `--base-url` repeated or comma-separated, and `--base-urls-file`.
public enum EndpointList {
    /// Every URL once, in the order given (flags first, then the file). Normalized like a single `--base-url`,
    /// so "host:8000/v1/" and "http://host:8000/v1" are the same server.
    public static func parse(_ values: [String], fileText: String? = nil) -> [String] {
        var raw = values.flatMap { $0.split(separator: ",").map(String.init) }
        if let fileText {
            for line in fileText.split(whereSeparator: \.isNewline) {
                // "# a comment" lines, and comments after a URL.
                let url = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                raw.append(String(url))
            }
        }
        var seen = Set<String>()
        var out: [String] = []
        for value in raw {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let url = OpenAIConfiguration.normalize(trimmed)
            if seen.insert(url).inserted { out.append(url) }
        }
        return out
    }

    /// Reads `--base-urls-file`, with a message that names the file when it cannot be read.
    public static func read(file path: String) throws -> String {
        do { return try String(contentsOfFile: (path as NSString).expandingTildeInPath, encoding: .utf8) } catch {
            throw EnginePoolError(description: "cannot read the server list \(path): \(error.localizedDescription)")
        }
    }
}
