import Foundation

/// Named input roots, `--root NAME=PATH`: shared storage mounted at different places on different hosts. A job
/// names its file by root and relative path; each host maps the name to its own mount point. Without a name, a
/// root is its absolute path.
public struct RootMap: Sendable, Equatable {
    public private(set) var paths: [String: URL] = [:]

    public init() {}

    /// Parses `NAME=PATH` values. Names are letters, digits, `-`, `_` and `.`; paths are absolute or made so.
    public init(_ values: [String], relativeTo cwd: URL) throws {
        for v in values {
            guard let eq = v.firstIndex(of: "="), eq != v.startIndex, v.index(after: eq) != v.endIndex else {
                throw RootMapError("--root \(v): expected NAME=PATH, e.g. --root media=/mnt/media")
            }
            let name = String(v[..<eq]), path = String(v[v.index(after: eq)...])
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix("/") else {
                throw RootMapError("--root \(v): a root's name is letters, digits, '-', '_' and '.'")
            }
            guard paths[name] == nil else { throw RootMapError("--root \(name) is given twice") }
            paths[name] = URL(fileURLWithPath: (path as NSString).expandingTildeInPath, relativeTo: cwd).standardizedFileURL
        }
    }

    /// What a job records for a file found under the input `root`: the name mapped to that folder, else its path.
    public func name(for root: URL) -> String {
        let r = root.standardizedFileURL.path
        return paths.first { $0.value.path == r }?.key ?? r
    }

    /// Where a job's file is on this host, or nil when its root is a name this host does not map.
    public func locate(root: String, relativePath: String) -> URL? {
        guard !relativePath.split(separator: "/").contains("..") else { return nil }  // never outside the root
        if let base = paths[root] { return base.appendingPathComponent(relativePath) }
        guard root.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: root, isDirectory: true).appendingPathComponent(relativePath)
    }
}

public struct RootMapError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
