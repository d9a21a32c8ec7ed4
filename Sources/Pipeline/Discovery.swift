import Foundation

/// Finds media under the paths given to `recap run`: recursively, by extension first (the probe stage then
/// confirms each file is really media). Hidden entries are skipped, symlink loops are broken, unreadable
/// folders are reported; none of them stop the walk.
public struct Discovery: Sendable {
    public static let mediaExtensions: Set<String> = [
        "mp4", "m4v", "mov", "mkv", "webm", "avi", "wmv", "flv", "mpg", "mpeg", "ts", "mts", "m2ts", "3gp", "ogv",
        "m4a", "mp3", "wav", "flac", "ogg", "oga", "opus", "aac", "wma",
    ]

    public struct File: Sendable, Equatable {
        public var url: URL
        /// The input root it was found under, and the path relative to it (for mirroring under --out).
        public var root: URL
        public var relativePath: String
        public var size: Int64
        public var mtime: Double
        public var inode: UInt64
        public var device: UInt64
    }

    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        public var path: String
        public var reason: String
        /// Media the user pointed at that cannot be processed (unreadable, a broken link, not a regular file):
        /// the run reports it as a failure (exit 2). False for what is only skipped (a symlink loop's repeat).
        public var isFailure = true
        public var description: String { "\(path): \(reason)" }
    }

    public struct Result: Sendable {
        public var files: [File] = []
        public var issues: [Issue] = []
        public var skippedHidden = 0
        public var skippedNotMedia = 0
    }

    public var excluded: [URL]

    /// `excluded`: folders never entered (the output folder, when it lies inside an input folder).
    public init(excluded: [URL] = []) { self.excluded = excluded.map { $0.standardizedFileURL.resolvingSymlinksInPath() } }

    public func discover(_ paths: [URL]) -> Result {
        var result = Result()
        var seenFiles = Set<[UInt64]>()
        let keepRootName = paths.count > 1
        for path in paths {
            let root = path.standardizedFileURL
            var st = stat()
            guard stat(root.path, &st) == 0 else {
                result.issues.append(Issue(path: root.path, reason: "cannot be read: \(String(cString: strerror(errno)))"))
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                var visited = Set<[UInt64]>()
                walk(root, root: root, keepRootName: keepRootName, visited: &visited, seen: &seenFiles, into: &result)
            } else {
                // A file named explicitly is a candidate whatever its extension; the probe decides.
                add(root, st: st, root: root.deletingLastPathComponent(), keepRootName: false, seen: &seenFiles, into: &result)
            }
        }
        result.files.sort { $0.url.path < $1.url.path }
        return result
    }

    private func walk(_ dir: URL, root: URL, keepRootName: Bool, visited: inout Set<[UInt64]>,
                      seen: inout Set<[UInt64]>, into result: inout Result) {
        var st = stat()
        guard stat(dir.path, &st) == 0 else { return }
        let key = [UInt64(st.st_dev), UInt64(st.st_ino)]
        guard visited.insert(key).inserted else {
            result.issues.append(Issue(path: dir.path, reason: "skipped: a symbolic link loop leads back to a folder already visited", isFailure: false))
            return
        }
        let resolved = dir.resolvingSymlinksInPath()
        if excluded.contains(where: { resolved.path == $0.path || resolved.path.hasPrefix($0.path + "/") }) { return }
        guard access(dir.path, R_OK | X_OK) == 0,
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else {
            result.issues.append(Issue(path: dir.path, reason: "folder cannot be read (permission denied?); its contents were skipped. Check its permissions for the user running recap"))
            return
        }
        for name in names.sorted() {
            if name.hasPrefix(".") { result.skippedHidden += 1; continue }
            let url = dir.appendingPathComponent(name)
            var est = stat()
            guard stat(url.path, &est) == 0 else {
                var lst = stat()
                if lstat(url.path, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK {
                    result.issues.append(Issue(path: url.path, reason: "broken symbolic link: its target does not exist; fix or remove the link"))
                } else {
                    result.issues.append(Issue(path: url.path, reason: "cannot be read: \(String(cString: strerror(errno)))"))
                }
                continue
            }
            switch est.st_mode & S_IFMT {
            case S_IFDIR:
                walk(url, root: root, keepRootName: keepRootName, visited: &visited, seen: &seen, into: &result)
            case S_IFREG:
                guard Self.mediaExtensions.contains(url.pathExtension.lowercased()) else { result.skippedNotMedia += 1; continue }
                add(url, st: est, root: root, keepRootName: keepRootName, seen: &seen, into: &result)
            default:
                if Self.mediaExtensions.contains(url.pathExtension.lowercased()) {
                    result.issues.append(Issue(path: url.path, reason: "not a regular file (a FIFO, socket or device); skipped"))
                } else {
                    result.skippedNotMedia += 1
                }
            }
        }
    }

    private func add(_ url: URL, st: stat, root: URL, keepRootName: Bool, seen: inout Set<[UInt64]>, into result: inout Result) {
        // The same file reached twice (a symlink to it, or two overlapping roots) is processed once.
        guard seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else { return }
        guard access(url.path, R_OK) == 0 else {
            result.issues.append(Issue(path: url.path, reason: "cannot be read (permission denied); check its permissions for the user running recap"))
            return
        }
        let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        result.files.append(File(url: url, root: root,
                                 relativePath: OutputPaths.relativePath(of: url, under: root, keepRootName: keepRootName),
                                 size: Int64(st.st_size), mtime: mtime, inode: UInt64(st.st_ino), device: UInt64(st.st_dev)))
    }
}
