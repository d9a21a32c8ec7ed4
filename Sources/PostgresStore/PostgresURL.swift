import Foundation
import PostgresNIO
import Store

/// `postgres://user:password@host:port/database`: the one way a store is named (`--store`, `RECAP_STORE`).
/// TLS is not offered in this slice: `sslmode` may only be `disable` (the default here).
/// `synchronous_commit=off` (or `local`, ...) is passed to the server for this store's sessions: commits stop
/// waiting for the WAL flush, as the SQLite store's `synchronous = NORMAL` does. A server crash can then lose
/// the last few commits (a claim or a checkpoint is redone; nothing is corrupted). Default: the server's setting.
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var synchronousCommit: String?

    init(_ string: String) throws {
        guard let url = URLComponents(string: string), let scheme = url.scheme,
              scheme == "postgres" || scheme == "postgresql"
        else { throw StoreErrorFactory.badURL(string, "expected postgres://user:password@host:port/database") }
        host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = url.port ?? 5432
        user = url.user?.removingPercentEncoding ?? "postgres"
        password = url.password?.removingPercentEncoding
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? user : path
        synchronousCommit = url.queryItems?.first { $0.name == "synchronous_commit" }?.value
        if let mode = synchronousCommit, !["on", "off", "local", "remote_write", "remote_apply"].contains(mode) {
            throw StoreErrorFactory.badURL(string, "synchronous_commit must be on, off, local, remote_write or remote_apply")
        }
        let sslmode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard sslmode == "disable" else {
            throw StoreErrorFactory.badURL(string, "sslmode=\(sslmode) is not supported yet; use sslmode=disable on a trusted network")
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        var config = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        config.options.additionalStartupParameters = startupParameters
        return config
    }

    /// Settings sent in the startup packet: the server applies them to the session like `SET`.
    var startupParameters: [(String, String)] {
        synchronousCommit.map { [("synchronous_commit", $0)] } ?? []
    }

    var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// The URL with the password left out, for messages and logs.
    var redacted: String { "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)" }
}

enum StoreErrorFactory {
    static func badURL(_ url: String, _ why: String) -> StoreError {
        // Never echo the password.
        let shown = url.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
        return .database(path: shown, detail: "not a usable PostgreSQL URL: \(why)")
    }
}
