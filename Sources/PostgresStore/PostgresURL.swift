import Foundation
import PostgresNIO
import Store

/// `postgres://user:password@host:port/database`: the one way a store is named (`--store`, `RECAP_STORE`).
/// `sslmode` and `sslrootcert` mean what they mean to libpq (psql), so an operator's URL works unchanged; see
/// ``TLSMode``. Client certificates (`sslcert`, `sslkey`) are refused rather than ignored.
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
    var tlsMode: TLSMode
    /// The certificate authorities (a PEM file) that verify the server; without it, the system's.
    var rootCertificate: String?

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
        let sslmode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? TLSMode.prefer.rawValue
        guard let mode = TLSMode(rawValue: sslmode) else {
            throw StoreErrorFactory.badURL(string, "sslmode must be disable, allow, prefer, require, verify-ca or verify-full")
        }
        tlsMode = mode
        rootCertificate = url.queryItems?.first { $0.name == "sslrootcert" }?.value.flatMap { $0.isEmpty || $0 == "system" ? nil : $0 }
        if let root = rootCertificate, !FileManager.default.isReadableFile(atPath: root) {
            throw StoreErrorFactory.badURL(string, "sslrootcert \(root) cannot be read")
        }
        if let name = url.queryItems?.first(where: { ["sslcert", "sslkey", "sslpassword"].contains($0.name) })?.name {
            throw StoreErrorFactory.badURL(string, "\(name): client certificates are not supported; authenticate with a password")
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        var config = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
        config.options.additionalStartupParameters = startupParameters
        return config
    }

    /// What libpq's modes ask of the server's certificate (https://www.postgresql.org/docs/15/libpq-ssl.html):
    /// `prefer` (libpq's default, and ours) and `require` encrypt without checking who answers, `verify-ca`
    /// checks the chain, `verify-full` the chain and the host name. As in libpq, `require` with a root
    /// certificate file checks the chain too. `allow` is taken as `prefer`: it ends encrypted whenever the
    /// server offers it, where libpq would try plain text first.
    enum TLSMode: String, Sendable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// The TLS settings for this mode, or nil for none.
    private var tls: (required: Bool, configuration: TLSConfiguration)? {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = rootCertificate.map { .file($0) } ?? .default
        switch tlsMode {
        case .disable: return nil
        case .allow, .prefer:
            config.certificateVerification = .none
            return (false, config)
        case .require:
            config.certificateVerification = rootCertificate == nil ? .none : .noHostnameVerification
            return (true, config)
        case .verifyCA:
            config.certificateVerification = .noHostnameVerification
            return (true, config)
        case .verifyFull:
            config.certificateVerification = .fullVerification
            return (true, config)
        }
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        guard let tls else { return .disable }
        return tls.required ? .require(tls.configuration) : .prefer(tls.configuration)
    }

    /// Settings sent in the startup packet: the server applies them to the session like `SET`.
    var startupParameters: [(String, String)] {
        synchronousCommit.map { [("synchronous_commit", $0)] } ?? []
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var connectionTLS = PostgresConnection.Configuration.TLS.disable
        if let tls {
            let context = try NIOSSLContext(configuration: tls.configuration)
            connectionTLS = tls.required ? .require(context) : .prefer(context)
        }
        var config = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: connectionTLS)
        config.options.additionalStartupParameters = startupParameters
        return config
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
