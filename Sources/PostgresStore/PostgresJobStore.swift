import Foundation
import Logging
import PostgresNIO
import Store

/// The job queue on PostgreSQL, for workers on many hosts: the SQLite ``JobStore``'s semantics, used the way
/// River, Oban and good_job use PostgreSQL. Claims take rows with `FOR UPDATE SKIP LOCKED`, so claimers never
/// wait on each other; every time (lease expiry, backoff) is the database's `now()`, so workers' clocks may
/// disagree; every write after a claim presents the lease token in its WHERE clause (fencing).
///
/// Open it with ``open(url:options:)``; ``close()`` when done. The connection pool runs in a task owned by
/// the store.
public final class PostgresJobStore: JobQueue {
    public struct Options: Sendable {
        public var retryPolicy: RetryPolicy
        /// How long a claim holds a job without a heartbeat.
        public var leaseDuration: TimeInterval
        /// Connections this process keeps at most: one per concurrent worker task is enough.
        public var maxConnections: Int
        /// How long one call may wait for the database before it fails (see ``answered(by:_:)``); 0: forever.
        public var answerSeconds: TimeInterval

        public init(retryPolicy: RetryPolicy = .default, leaseDuration: TimeInterval = 60, maxConnections: Int = 20,
                    answerSeconds: TimeInterval = 30) {
            self.retryPolicy = retryPolicy
            self.leaseDuration = leaseDuration
            self.maxConnections = maxConnections
            self.answerSeconds = answerSeconds
        }
    }

    public let options: Options
    /// The URL without its password: what error messages name.
    public let location: String
    let slot: ClientSlot
    /// The deadlines of this store's calls in flight (see ``answered(by:_:)``).
    let watchdog = Watchdog()
    /// The connection pool in use now (a new one after the old one gave up: see ``ClientSlot``).
    var client: PostgresClient { slot.current }
    let logger = Logger(label: "recap.postgres-store")

    private init(configuration: PostgresURL, options: Options) {
        var config = configuration.clientConfiguration
        config.options.maximumConnections = max(1, options.maxConnections)
        slot = ClientSlot(config)
        self.options = options
        self.location = configuration.redacted
    }

    /// Whether `string` names a PostgreSQL database (`postgres://` or `postgresql://`) rather than a SQLite file.
    public static func names(_ string: String) -> Bool {
        string.hasPrefix("postgres://") || string.hasPrefix("postgresql://")
    }

    /// Connects to `url` (`postgres://user:pass@host:port/db`) and brings its schema up to date. Two
    /// processes starting at once are safe: migrations run under a transaction-scoped advisory lock.
    public static func open(url: String, options: Options = Options()) async throws -> PostgresJobStore {
        let parsed = try PostgresURL(url)
        let logger = Logger(label: "recap.postgres-store")
        // Migrate on a connection of its own first: an unreachable server or a bad password fails here at
        // once, rather than in the pool, which keeps retrying a connection for as long as a query waits.
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try parsed.connectionConfiguration(), id: 0, logger: logger)
        } catch {
            throw StoreError.database(path: parsed.redacted, detail: "cannot connect: \(String(reflecting: error))")
        }
        do {
            try await connection.query("BEGIN", logger: logger)
            try await PostgresMigrations.migrate(connection, location: parsed.redacted, logger: logger)
            try await connection.query("COMMIT", logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()  // closing ends the transaction: nothing half-applied stays
            if error is StoreError { throw error }
            throw StoreError.database(path: parsed.redacted, detail: "migrating: \(String(reflecting: error))")
        }
        return PostgresJobStore(configuration: parsed, options: options)
    }

    /// Stops the connection pool. The store must not be used afterwards.
    public func close() async { await slot.close() }

    deinit { slot.cancel() }

    // MARK: - Running queries

    /// One statement on a pooled connection (autocommit): atomic on its own.
    @discardableResult
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let client = self.client, logger = self.logger
        do {
            return try await answered(by: client) { try await client.query(query, logger: logger).collect() }
        } catch {
            throw map(error, from: client)
        }
    }

    /// `body` in one transaction on one connection: committed if it returns, rolled back if it throws.
    /// Our own errors (``StoreError``) come out as they went in, unlike PostgresNIO's `withTransaction`,
    /// which wraps them.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client, logger = self.logger
        do {
            return try await answered(by: client) { try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            } }
        } catch {
            throw map(error, from: client)
        }
    }

    func map(_ error: any Error, from client: PostgresClient? = nil) -> any Error {
        if error is StoreError { return error }
        // After connections failed for a while (a database restart, a network cut), PostgresNIO's pool trips a
        // circuit breaker and refuses every request from then on. A worker must outlive that: the pool is
        // replaced, and the next call connects afresh. (Matched by name: the error type is not public API.)
        if let client, String(reflecting: error).contains("CircuitBreakerTripped") { slot.replace(client) }
        // String(reflecting:) includes the server's message; PSQLError's plain description hides it on purpose.
        return StoreError.database(path: location, detail: String(reflecting: error))
    }
}

extension PostgresConnection {
    @discardableResult
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }
}

/// The store's connection pool, replaceable: PostgresNIO's pool stops trying once its circuit breaker trips,
/// so after an outage the store swaps in a new pool rather than failing forever.
final class ClientSlot: @unchecked Sendable {
    // @unchecked: `client` and `runner` are only touched under `lock`.
    private let lock = NSLock()
    private let configuration: PostgresClient.Configuration
    private var client: PostgresClient
    private var runner: Task<Void, Never>

    init(_ configuration: PostgresClient.Configuration) {
        self.configuration = configuration
        let client = PostgresClient(configuration: configuration)
        self.client = client
        runner = Task { await client.run() }
    }

    var current: PostgresClient { lock.withLock { client } }

    /// Replaces `failed` with a new pool, unless another caller already did.
    func replace(_ failed: PostgresClient) {
        lock.withLock {
            guard client === failed else { return }
            runner.cancel()
            let fresh = PostgresClient(configuration: configuration)
            client = fresh
            runner = Task { await fresh.run() }
        }
    }

    func cancel() { lock.withLock { runner.cancel() } }

    func close() async {
        let running = lock.withLock { runner }
        running.cancel()
        await running.value
    }
}
