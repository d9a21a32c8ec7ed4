import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much of a file its fingerprint reads.
public enum FingerprintMode: String, Sendable, Codable {
    /// Size + SHA-256 of three 64 KiB blocks (head, middle, tail). The default.
    case sampled
    /// SHA-256 of every byte.
    case full
}

/// A media file's content identity, independent of its path: a moved or renamed file keeps it, an
/// edited file gets a new one.
///
/// Trade-off. `.sampled` reads at most 192 KiB per file whatever its size, so fingerprinting a
/// 4 GB lecture costs the same as a 4 MB clip, and a first scan of an archive is bound by seeks,
/// not by bandwidth. Its blind spot is an edit that keeps the exact size and touches none of the
/// three blocks. For video that is very unlikely: re-encoding, trimming or remuxing changes the
/// size and the container's head (moov/ftyp) or tail; an in-place metadata edit (a tag rewrite
/// padded to the same size) can slip through, which for Recap only means a stale caption rather
/// than lost data. `.full` closes that gap at the cost of reading every byte (minutes per TB-hour of
/// archive). Files of 192 KiB or less are always hashed whole. Either way the fingerprint is only
/// computed when the cheap (device, inode, size, mtime) check says the file might have changed.
///
/// The fingerprint string carries the mode and a format version ("s1:", "f1:"), so changing the
/// scheme makes new jobs instead of silently matching old ones.
public enum Fingerprint {
    public static let blockSize = 64 * 1024

    public static func of(path: String, mode: FingerprintMode = .sampled) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.unreadable(path: path, detail: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StoreError.unreadable(path: path, detail: String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw StoreError.unreadable(path: path, detail: "not a regular file") }
        let size = Int(st.st_size)

        var hash = SHA256()
        withUnsafeBytes(of: UInt64(size).littleEndian) { hash.update($0) }
        var buffer = [UInt8](repeating: 0, count: blockSize)
        func hashRange(_ start: Int, _ count: Int) throws {
            var done = 0
            while done < count {
                let want = min(blockSize, count - done)
                let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(start + done)) }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.unreadable(path: path, detail: String(cString: strerror(errno)))
                }
                if got == 0 { throw StoreError.unreadable(path: path, detail: "the file shrank while being read") }
                hash.update(buffer[0..<got])
                done += got
            }
        }
        switch mode {
        case .full:
            try hashRange(0, size)
        case .sampled:
            if size <= 3 * blockSize {
                try hashRange(0, size)
            } else {
                try hashRange(0, blockSize)
                try hashRange(size / 2 - blockSize / 2, blockSize)
                try hashRange(size - blockSize, blockSize)
            }
        }
        let prefix = mode == .full ? "f1" : "s1"
        return "\(prefix):\(size):\(SHA256.hex(hash.finalize()))"
    }
}

/// The cheap identity of a path at one moment: if all four are equal to what was recorded, the
/// file is taken as unchanged without reading it.
public struct FileStat: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// Modification time in nanoseconds since 1970.
    public var mtimeNs: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNs: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNs = mtimeNs
    }

    /// `stat()` of `path` (following symlinks), or nil if it does not exist or is not a regular file.
    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        #if canImport(Darwin)
        mtimeNs = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #else
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #endif
    }
}
