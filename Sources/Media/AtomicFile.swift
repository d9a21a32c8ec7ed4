import Foundation

/// Atomic writes: a temp file in the same folder, then rename. A reader sees the old file or the new one,
/// never half of one. Temp names carry the writer's pid so a later run can sweep the leftovers of a killed one.
public enum AtomicFile {
    static let marker = ".recap-tmp."

    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw MediaError.writeFailed(path: dir.path, reason: error.localizedDescription)
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent)\(marker)\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        guard FileManager.default.createFile(atPath: tmp.path, contents: data) else {
            throw MediaError.writeFailed(path: url.path, reason: "cannot create \(tmp.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        // Flush before the rename so a power cut cannot leave a renamed but empty file.
        let fd = open(tmp.path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        if rename(tmp.path, url.path) != 0 {
            let err = String(cString: strerror(errno))
            unlink(tmp.path)
            throw MediaError.writeFailed(path: url.path, reason: "rename failed: \(err)")
        }
    }

    public static func copy(from src: URL, to url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: src) } catch {
            throw MediaError.writeFailed(path: url.path, reason: "cannot read \(src.path): \(error.localizedDescription)")
        }
        try write(data, to: url)
    }

    /// Removes temp files in `dir` whose writer process is gone. Returns how many were removed.
    @discardableResult
    public static func sweep(_ dir: URL) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return 0 }
        var removed = 0
        for name in names {
            guard let r = name.range(of: marker) else { continue }
            let pidText = name[r.upperBound...].split(separator: ".").first.map(String.init) ?? ""
            if let pid = Int32(pidText), pid != getpid(), kill(pid, 0) == 0 { continue }  // writer still alive
            if pidText == String(getpid()) { continue }
            if unlink(dir.appendingPathComponent(name).path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Every leftover temp file under `root`, recursively (for tests and `recap run`'s final sweep).
    public static func leftovers(under root: URL) -> [URL] {
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        return e.compactMap { $0 as? URL }.filter { $0.lastPathComponent.contains(marker) }
    }
}
