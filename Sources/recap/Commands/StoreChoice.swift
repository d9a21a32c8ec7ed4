import Foundation
import Models
import PostgresStore
import Store

/// Where the jobs are kept: a SQLite file beside the outputs (one host), or a PostgreSQL database that
/// workers on many hosts share (`--store postgres://user@host/db`, or `RECAP_STORE`).
enum StoreChoice {
    case sqlite(URL)
    case postgres(String)

    static func resolve(store: String?, outputFolder: String?,
                        environment: [String: String] = ProcessInfo.processInfo.environment) -> StoreChoice {
        let given = [store, environment[StoreLocation.environmentVariable]].compactMap { $0 }.first { !$0.isEmpty }
        if let given, PostgresJobStore.names(given) { return .postgres(given) }
        return .sqlite(StoreLocation.resolve(store: store, outputFolder: outputFolder, environment: environment))
    }

    /// The SQLite store for commands that read a whole index (serve, export), or an error saying why a shared
    /// store will not do. (`recap search` reads both: by words only on PostgreSQL.)
    static func indexFile(store: String?, outputFolder: String?, command: String) throws -> URL {
        switch resolve(store: store, outputFolder: outputFolder) {
        case .sqlite(let url): return url
        case .postgres: throw UnsupportedStore(command: command)
        }
    }

    struct UnsupportedStore: Error, CustomStringConvertible {
        var command: String
        var description: String {
            "recap \(command) reads a SQLite store; a PostgreSQL store holds the jobs and their texts, but \(command) does not read it yet. "
                + "Give --store FILE (a store made by `recap run` without a shared store)"
        }
    }

    /// The host's own SQLite store when the jobs are in PostgreSQL: its stat cache (inodes are per host), its
    /// run log and, beside it, its scratch folder. On local disk in the cache, one per output folder and
    /// database, never in the output folder: that is often a network mount, where SQLite's WAL cannot work.
    static func hostStore(outputFolder: URL, database: String) -> URL {
        let key = Digest.sha256Hex(Data("\(outputFolder.path)\n\(database)".utf8)).prefix(16)
        return RecapPaths.fromEnvironment().cache.appendingPathComponent("hosts/\(key)/store.sqlite")
    }

    /// Opens the shared store (connecting and migrating), or throws with the URL's password left out.
    static func openPostgres(_ url: String, connections: Int) async throws -> PostgresJobStore {
        try await PostgresJobStore.open(url: url, options: .init(maxConnections: connections))
    }
}
