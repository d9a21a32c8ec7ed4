import Foundation

/// Where a media file's outputs go: `--out` mirroring the input tree. Every path is built from
/// sanitized components and checked to stay under `--out`; nothing from an input name can escape it.
public struct OutputPaths: Sendable {
    public let root: URL
    /// Base names chosen for inputs whose usual one is shared (see `separating(_:)`), by relative path.
    public private(set) var bases: [String: String] = [:]

    public init(root: URL) { self.root = root.standardizedFileURL }

    /// Two inputs must never write the same outputs. Where several inputs in one folder would share a base
    /// name (`clip.mp4` and `clip.mkv`, or names that sanitize alike), each keeps its extension
    /// (`clip.mp4.recap.json`), and names still alike get a short hash of the original name. Inputs with a
    /// name of their own keep the plain `clip.recap.json`.
    public func separating(_ relativePaths: [String]) -> OutputPaths {
        var out = self
        out.bases = [:]
        let groups = Dictionary(grouping: relativePaths) { (try? place(forRelativePath: $0)).map { "\($0.folder.path)/\($0.base)" } ?? $0 }
        for (_, paths) in groups where paths.count > 1 {
            let withExtension = Dictionary(grouping: paths) { Self.sanitize(Self.lastComponent($0)) }
            for (name, same) in withExtension {
                for p in same {
                    out.bases[p] = same.count == 1 ? name : name + "~" + String(fnv1a(p).prefix(8))
                }
            }
        }
        return out
    }

    static func lastComponent(_ relativePath: String) -> String {
        relativePath.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? relativePath
    }


    public enum PathError: Error, CustomStringConvertible {
        case escapes(String)
        case symlinkInOutput(String)
        public var description: String {
            switch self {
            case .escapes(let p): "refusing to write \(p): it would land outside the output folder"
            case .symlinkInOutput(let p): "refusing to write through \(p): it is a symbolic link inside the output folder; remove it or choose another --out"
            }
        }
    }

    /// Makes one path component safe: no separators, no `.`/`..`, no control characters, no leading dot
    /// (outputs are never hidden), and at most 200 bytes so suffixes still fit the 255-byte name limit.
    public static func sanitize(_ component: String) -> String {
        var s = String(component.unicodeScalars.map { c -> Character in
            if c == "/" || c == "\\" || c.value < 0x20 || c.value == 0x7f { return "_" }
            return Character(c)
        })
        while s.hasPrefix(".") { s.removeFirst() }
        s = s.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { s = "_" }
        while s.utf8.count > 200 { s.removeLast() }
        return s
    }

    /// The output folder and base name for a media file at `relativePath` (relative to its input root),
    /// e.g. `talks/day1/intro.mp4` → (`OUT/talks/day1`, `intro`).
    public func location(forRelativePath relativePath: String) throws -> (folder: URL, base: String) {
        let (folder, base) = try place(forRelativePath: relativePath)
        try check(folder.appendingPathComponent(base))
        return (folder, base)
    }

    /// `location(forRelativePath:)` without the symlink check: what to test for existence, never to write to.
    /// (A no-op rerun asks this of every file; the check costs an `lstat` per path component.)
    func place(forRelativePath relativePath: String) throws -> (folder: URL, base: String) {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            .filter { $0 != "." && $0 != ".." }
        guard let last = parts.last else { throw PathError.escapes(relativePath) }
        var folder = root
        for p in parts.dropLast() { folder.appendPathComponent(Self.sanitize(p), isDirectory: true) }
        let name = (last as NSString).deletingPathExtension
        let base = bases[relativePath] ?? Self.sanitize(name.isEmpty ? last : name)
        return (folder, base)
    }

    /// The full path of one output file, e.g. `intro.recap.json`.
    public func file(forRelativePath relativePath: String, suffix: String) throws -> URL {
        let (folder, base) = try location(forRelativePath: relativePath)
        let url = folder.appendingPathComponent(base + suffix)
        try check(url)
        return url
    }

    /// Refuses a path that is not strictly inside `root`, or that passes through a symlink under `root`
    /// (an attacker's link inside the output folder would redirect the write).
    public func check(_ url: URL) throws {
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        let path = url.standardizedFileURL.path
        guard path.hasPrefix(rootPath), path.count > rootPath.count else { throw PathError.escapes(url.path) }
        var current = root
        for part in path.dropFirst(rootPath.count).split(separator: "/") {
            current.appendPathComponent(String(part))
            var st = stat()
            if lstat(current.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                throw PathError.symlinkInOutput(current.path)
            }
        }
    }

    /// The path of a media file relative to the input root it was found under. With several input roots,
    /// each root's own name is kept as the first component so outputs from different roots cannot collide.
    public static func relativePath(of file: URL, under root: URL, keepRootName: Bool) -> String {
        let f = file.standardizedFileURL.path, r = root.standardizedFileURL.path
        var rel: String
        if f == r { rel = file.lastPathComponent }
        else if f.hasPrefix(r.hasSuffix("/") ? r : r + "/") { rel = String(f.dropFirst(r.hasSuffix("/") ? r.count : r.count + 1)) }
        else { rel = file.lastPathComponent }
        if keepRootName, f != r { rel = root.lastPathComponent + "/" + rel }
        return rel
    }
}

/// FNV-1a of the UTF-8 bytes, in hex: a stable, cheap name hash (output-name tie-breaks, the legacy job key),
/// not a security measure.
func fnv1a(_ s: String) -> String {
    var h: UInt64 = 0xcbf29ce484222325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
    return String(h, radix: 16)
}
