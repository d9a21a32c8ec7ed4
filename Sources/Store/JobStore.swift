import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite job store: resumable, exactly-once work shared by any number of `recap` processes.
///
/// One `JobStore` per process is enough; it is `Sendable` and its methods are short blocking calls
/// (a few SQLite statements each) that are safe from any thread or task. Writes run in
/// `BEGIN IMMEDIATE` transactions, so a read-then-write (claim) can never interleave with another
/// process's. SQLITE_BUSY is absorbed by a short-sleep busy handler and then by retries; it never
/// reaches the caller unless the lock is held for minutes (``StoreError/busy(path:waited:)``).
///
/// Durability: WAL with `synchronous = NORMAL`. A power cut can lose the last few committed
/// transactions but never corrupts the store; a lost checkpoint only means that stage is computed
/// again, and outputs are written atomically, so redoing it is harmless.
public final class JobStore: Sendable {
    public struct Options: Sendable {
        public var clock: any StoreClock
        public var retryPolicy: RetryPolicy
        /// How long a claim holds a job without a heartbeat. A crashed process's jobs come back after this.
        public var leaseDuration: TimeInterval
        /// Create the store (and its folder) if missing. `recap status` / `jobs` pass false.
        public var create: Bool
        /// How long a write waits for another process's lock before giving up with `.busy`.
        public var busyBudget: TimeInterval

        public init(
            clock: any StoreClock = SystemClock(), retryPolicy: RetryPolicy = .default,
            leaseDuration: TimeInterval = 60, create: Bool = true, busyBudget: TimeInterval = 120
        ) {
            self.clock = clock
            self.retryPolicy = retryPolicy
            self.leaseDuration = leaseDuration
            self.create = create
            self.busyBudget = busyBudget
        }
    }

    /// The store file's absolute path.
    public let path: String
    public let options: Options
    let pool: DatabasePool

    public var clock: any StoreClock { options.clock }

    /// Opens (and if needed creates and migrates) the store at `path`.
    ///
    /// Refuses, without writing a byte, a file that is not a Recap store, a damaged one, one from a
    /// newer Recap, and a read-only file or folder. Opening from several processes at once is safe:
    /// creation and migration are serialized with an advisory lock on the store's folder.
    public init(path: String, options: Options = Options()) throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        self.path = absolute
        self.options = options
        self.pool = try StoreOpener(path: absolute, options: options).open()
    }

    public convenience init(url: URL, options: Options = Options()) throws {
        try self.init(path: url.path, options: options)
    }

    /// Closes the store's connections (checkpointing the WAL into the main file). The store must
    /// not be used afterwards. Optional: deinit closes too.
    public func close() throws {
        do { try pool.close() } catch { throw map(error) }
    }

    /// A lease owner name unique to this process: host, pid and a random suffix.
    public static func makeOwner(_ label: String = "recap") -> String {
        "\(label)@\(hostName()):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    // MARK: - Transactions

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction, retrying on SQLITE_BUSY / SQLITE_LOCKED with
    /// short jittered sleeps until `busyBudget` is spent. SQLite errors become ``StoreError``s.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try retryingWhileBusy {
            try pool.writeWithoutTransaction { db in
                var value: T?
                try db.inTransaction(.immediate) {
                    value = try body(db)
                    return .commit
                }
                return value!
            }
        }
    }

    /// Runs `body` outside an explicit transaction: for a single write statement, which SQLite
    /// makes atomic by itself (its write lock is taken before it reads, like BEGIN IMMEDIATE).
    /// Same busy handling as ``write(_:)``.
    func writeStatement<T>(_ body: (Database) throws -> T) throws -> T {
        try retryingWhileBusy { try pool.writeWithoutTransaction { db in try body(db) } }
    }

    /// The writers' busy handling: exponential jittered pauses (0.2 ms doubling to 50 ms) until
    /// `busyBudget` is spent, then ``StoreError/busy(path:waited:)``.
    private func retryingWhileBusy<T>(_ attempt: () throws -> T) throws -> T {
        let start = Date()
        var pause: useconds_t = 200
        while true {
            do {
                return try attempt()
            } catch let error as DatabaseError where error.isBusy {
                let waited = Date().timeIntervalSince(start)
                if waited > options.busyBudget { throw StoreError.busy(path: path, waited: waited) }
                usleep(pause + useconds_t.random(in: 0...pause))
                pause = min(pause * 2, 50_000)
            } catch {
                throw map(error)
            }
        }
    }

    /// A read of a consistent snapshot (WAL readers never block writers nor wait for them).
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        let start = Date()
        while true {
            do {
                return try pool.read { db in try body(db) }
            } catch let error as DatabaseError where error.isBusy {
                let waited = Date().timeIntervalSince(start)
                if waited > options.busyBudget { throw StoreError.busy(path: path, waited: waited) }
                usleep(1000)
            } catch {
                throw map(error)
            }
        }
    }

    func map(_ error: any Error) -> any Error {
        guard let db = error as? DatabaseError else { return error }
        return StoreOpener.storeError(db, path: path)
    }

    func now() -> Double { options.clock.now().timeIntervalSince1970 }
}

extension DatabaseError {
    var isBusy: Bool {
        resultCode == .SQLITE_BUSY || resultCode == .SQLITE_LOCKED
    }
}
