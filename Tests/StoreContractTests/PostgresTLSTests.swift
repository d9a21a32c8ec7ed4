import Foundation
@testable import PostgresStore
import Store
import Testing
import ThrowawayPostgres

/// `sslmode` and `sslrootcert` as libpq (psql) reads them, against a server that refuses connections without
/// TLS and presents a certificate for 127.0.0.1 and localhost from a throwaway authority.
@Suite(.serialized) struct PostgresTLSTests {
    static let cluster = Result { try TestCluster(addresses: ["127.0.0.2"], tls: true) }

    /// A database on the TLS cluster, as a URL naming `host`, with `query` appended.
    func url(host: String = "127.0.0.1", _ query: String) throws -> String {
        let plain = try Self.cluster.get().makeDatabase(host: host)
        return plain + (query.isEmpty ? "" : "?\(query)")
    }

    func encrypted(_ url: String) async throws -> Bool {
        let store = try await PostgresJobStore.open(url: url)
        defer { Task { await store.close() } }
        let rows = try await store.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return try rows.first?.decode(Bool.self) ?? false
    }

    func refused(_ url: String, because words: String) async {
        do {
            _ = try await PostgresJobStore.open(url: url)
            Issue.record("opened \(url)")
        } catch {
            #expect("\(error)".localizedCaseInsensitiveContains(words), "\(error)")
        }
    }

    @Test func withoutAnSSLModeTheConnectionIsEncryptedAsLibpqWouldPrefer() async throws {
        #expect(try await encrypted(url("")))
        #expect(try await encrypted(url("sslmode=require")))
    }

    @Test func disablingTLSMeetsAServerThatRequiresIt() async throws {
        await refused(try url("sslmode=disable"), because: "no encryption")
    }

    @Test func verifyFullChecksTheAuthorityAndTheHostName() async throws {
        let authority = try #require(try Self.cluster.get().certificateAuthority)
        #expect(try await encrypted(url("sslmode=verify-full&sslrootcert=\(authority)")))
        #expect(try await encrypted(url(host: "localhost", "sslmode=verify-full&sslrootcert=\(authority)")))
        // The system's authorities do not know this one.
        await refused(try url("sslmode=verify-full"), because: "certificate")
        // 127.0.0.2 reaches the same server, whose certificate does not name it: verify-ca accepts, verify-full not.
        #expect(try await encrypted(url(host: "127.0.0.2", "sslmode=verify-ca&sslrootcert=\(authority)")))
        await refused(try url(host: "127.0.0.2", "sslmode=verify-full&sslrootcert=\(authority)"), because: "certificate")
    }

    @Test func optionsRecapCannotHonourAreRefusedNotIgnored() async throws {
        await refused(try url("sslmode=sometimes"), because: "sslmode must be")
        await refused(try url("sslmode=require&sslcert=/tmp/client.crt"), because: "client certificates")
        await refused(try url("sslmode=verify-ca&sslrootcert=/nonexistent/ca.crt"), because: "cannot be read")
    }
}
