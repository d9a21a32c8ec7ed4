import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening a store safely: every check that can refuse happens before anything writes to the file,
/// so a foreign or damaged file is reported and left exactly as it was.
struct StoreOpener {
    let path: String
    let options: JobStore.Options

    func open() throws -> DatabasePool {
        let fm = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw StoreError.notAStore(path: path, detail: "it is a folder")
        }
        let exists = fm.fileExists(atPath: path)
        if !exists && !options.create { throw StoreError.missing(path: path) }
        if !fm.fileExists(atPath: folder) {
            do {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError.readOnly(path: path, detail: "cannot create its folder \(folder): \(error.localizedDescription)")
            }
        }
        if let why = Self.unwritable(folder) {
            throw StoreError.readOnly(path: path, detail: "its folder \(folder) is \(why) (SQLite needs to create -wal and -shm files beside it)")
        }
        if exists, let why = Self.unwritable(path) {
            throw StoreError.readOnly(path: path, detail: "the file is \(why)")
        }

        // Creation and migration by several processes at once are serialized on the folder.
        // (A lock on the database file itself would be unsafe: closing any descriptor of that file
        // drops SQLite's own POSIX locks.)
        let lock = try FolderLock(folder)
        defer { lock.unlock() }

        if exists { try validateExisting() }

        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
        } catch let error as DatabaseError {
            throw Self.storeError(error, path: path)
        }
        do {
            try Schema.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw Self.storeError(error, path: path)
        }
        return pool
    }

    /// Header, identity, schema version and a quick integrity check, on a read-only connection.
    private func validateExisting() throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.readOnly(path: path, detail: "it cannot be opened for reading")
        }
        let header = (try? handle.read(upToCount: 100)) ?? Data()
        try? handle.close()
        if header.isEmpty {
            // An empty file: `recap run` creates a store in it; a command that only reads leaves it alone.
            if options.create { return }
            throw StoreError.notAStore(path: path, detail: "it is an empty file, not a store yet (`recap run` creates one)")
        }
        guard header.count == 100, header.prefix(16) == Data("SQLite format 3\0".utf8) else {
            throw StoreError.notAStore(path: path, detail: "it is not an SQLite database")
        }
        // Another program's database is told apart by the header's application id (bytes 68–71), before SQLite
        // opens it: opening a WAL-mode database, even read-only, creates -wal and -shm files beside it.
        let appID = header[68..<72].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        if appID != 0 && Int32(bitPattern: appID) != Schema.applicationID {
            throw StoreError.notAStore(path: path, detail: "an SQLite database of another program (application id \(String(appID, radix: 16)))")
        }

        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            try queue.read { db in
                let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let tables = try String.fetchAll(db, sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name
                    """)
                if appID != Schema.applicationID {
                    if tables.isEmpty { return }  // an empty SQLite file: adopt it
                    let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
                    throw StoreError.notAStore(path: path, detail: "an SQLite database of another program, with tables \(shown)")
                }
                // quick_check reads every page: ~0.2 s for a 25 MB store. Past 64 MiB (mostly the
                // search index) only the tables that hold the work state are checked, so opening a
                // big archive's store from cron stays fast; damage elsewhere still surfaces as
                // `.corrupt` when it is read.
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                let checks = pages * pageSize <= 64 << 20
                    ? ["PRAGMA quick_check"]
                    : tables.filter { ["jobs", "stages", "attempts", "runs", "files"].contains($0) }.map { "PRAGMA quick_check(\($0))" }
                for sql in checks {
                    let check = try String.fetchAll(db, sql: sql)
                    if check != ["ok"] {
                        throw StoreError.corrupt(path: path, detail: check.prefix(3).joined(separator: "; "))
                    }
                }
                let known = Set(Schema.migrator.migrations)
                let applied = try db.tableExists("grdb_migrations")
                    ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
                let unknown = applied.filter { !known.contains($0) }
                if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknownMigrations: unknown.sorted()) }
            }
            try queue.close()
        } catch let error as DatabaseError {
            throw Self.storeError(error, path: path)
        }
    }

    private func configuration() -> Configuration {
        var config = Configuration()
        config.label = "recap-store"
        // A busy handler that sleeps briefly and often: the default one sleeps up to 100 ms at a
        // time, which wastes most of the lock's free time when several processes take turns
        // making sub-millisecond writes. After ~10 s the outer retry loop in JobStore.write takes over.
        config.busyMode = .callback { tries in
            let pause = UInt32(min(40 + tries * 20, 2000))
            usleep(pause + UInt32.random(in: 0...pause))
            return tries < 8000
        }
        return config
    }

    /// Why `path` cannot be written, or nil. Checks the permission bits too, because root passes
    /// every `access()` check, and a store an admin made read-only should stay untouched.
    static func unwritable(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        if st.st_mode & 0o222 == 0 { return "read-only (mode \(String(st.st_mode & 0o777, radix: 8)))" }
        if access(path, W_OK) != 0 {
            return errno == EROFS ? "on a read-only file system" : "not writable by this user"
        }
        return nil
    }

    static func storeError(_ error: DatabaseError, path: String) -> StoreError {
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode.primaryResultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return .corrupt(path: path, detail: detail)
        case .SQLITE_READONLY:
            return .readOnly(path: path, detail: detail)
        case .SQLITE_CANTOPEN:
            return .readOnly(path: path, detail: "SQLite cannot open it or its -wal/-shm files (\(detail))")
        case .SQLITE_FULL:
            return .database(path: path, detail: diskFull(path) ?? "the disk is full")
        case .SQLITE_IOERR:
            // SQLite says "disk I/O error" for a write that found no space: say which, when that is it.
            return .database(path: path, detail: diskFull(path) ?? detail)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .busy(path: path, waited: 0)
        default:
            return .database(path: path, detail: detail)
        }
    }
}

/// "the disk holding FOLDER is full (12 KB free) …" when the store's folder has under 8 MB free, else nil.
/// A store's writes need a few MB at most (its -wal file grows by up to 4 MB between checkpoints).
func diskFull(_ path: String) -> String? {
    let folder = (path as NSString).deletingLastPathComponent
    var fs = statvfs()
    guard statvfs(folder, &fs) == 0 else { return nil }
    let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
    guard free < 8 << 20 else { return nil }
    return "the disk holding \(folder) is full (\(free >> 10) KB free); free at least 8 MB there (the store's -wal file grows by up to 4 MB), then run again: finished stages are kept"
}

/// An exclusive `flock` on a folder, held while a store is created or migrated.
final class FolderLock {
    private let fd: Int32
    init(_ folder: String) throws {
        fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError.readOnly(path: folder, detail: "cannot open the folder: \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
    }
    func unlock() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
