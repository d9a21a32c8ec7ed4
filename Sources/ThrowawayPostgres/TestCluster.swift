import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL 15 cluster for this test process: `initdb` into a folder under /tmp, `pg_ctl start`
/// on a free loopback port, stopped and removed when the process exits (atexit; a crashed run's leftovers are
/// swept by the next one). One cluster per process, started on first use; each test gets its own database.
///
/// initdb refuses to run as root, and tests run as root on CI: then the server runs as `nobody`.
///
/// A library target, not test code, so that every test target that needs a real PostgreSQL (the store's
/// contract suite, the workers' end-to-end tests) starts it the same way. Nothing in `recap` links it.
public final class TestCluster: Sendable {
    public static let binaries = "/usr/lib/postgresql/15/bin"
    static let folderPrefix = "recap-pg-"

    /// Started once, on first use; a failure to start is every PostgreSQL test's failure, with its reason.
    public static let shared: Result<TestCluster, any Error> = Result { try TestCluster() }

    public let port: Int
    public let folder: URL
    /// With `tls`: the PEM file of the certificate authority that signed the server's certificate.
    public let certificateAuthority: String?
    private let settings: String
    private let counter = Counter()

    /// A cluster of its own, listening on loopback and on `addresses` too (another network namespace's way in),
    /// trusting connections from `networks` (CIDR, e.g. "10.231.0.0/24") without a password. With `tls`, the
    /// server has a certificate for 127.0.0.1 and localhost signed by a throwaway authority
    /// (``certificateAuthority``) and refuses connections without TLS.
    public init(addresses: [String] = [], networks: [String] = [], tls: Bool = false) throws(ClusterError) {
        guard FileManager.default.isExecutableFile(atPath: "\(Self.binaries)/initdb") else {
            throw ClusterError("PostgreSQL 15 is not installed (no \(Self.binaries)/initdb). Run scripts/install-debian.sh, "
                + "which installs the Debian package postgresql-15, then run the tests again.")
        }
        Self.sweepLeftovers()
        let folder = URL(fileURLWithPath: "/tmp/\(Self.folderPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        self.folder = folder
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("sock"), withIntermediateDirectories: true)
            try "\(getpid())".write(to: folder.appendingPathComponent("owner.pid"), atomically: true, encoding: .utf8)
        } catch { throw ClusterError("cannot create \(folder.path): \(error)") }
        var tlsSettings = ""
        if tls {
            let dir = folder.appendingPathComponent("tls").path
            try Self.makeCertificates(in: dir)
            certificateAuthority = "\(dir)/ca.crt"
            tlsSettings = " -c ssl=on -c ssl_cert_file=\(dir)/server.crt -c ssl_key_file=\(dir)/server.key"
        } else {
            certificateAuthority = nil
        }
        if getuid() == 0 { try Self.run(["/bin/chown", "-R", "nobody:nogroup", folder.path], asServer: false) }
        let data = folder.appendingPathComponent("data").path
        try Self.run(["\(Self.binaries)/initdb", "-D", data, "-A", "trust", "-U", "recap", "-E", "UTF8", "--locale=C", "--no-sync"])
        if !networks.isEmpty || tls {
            // The first matching line wins: without TLS, nothing gets past the first.
            let hba = "\(data)/pg_hba.conf"
            let lines = (tls ? "hostnossl all all 0.0.0.0/0 reject\n" : "") + ((try? String(contentsOfFile: hba, encoding: .utf8)) ?? "")
                + networks.map { "host all all \($0) trust\n" }.joined()
            do { try lines.write(toFile: hba, atomically: false, encoding: .utf8) } catch { throw ClusterError("cannot write pg_hba.conf: \(error)") }
        }
        port = try Self.freePort()
        // Durability off: a throwaway cluster; the benchmark (bench/queue.sh) runs its own with the defaults.
        settings = "-p \(port) -k \(folder.appendingPathComponent("sock").path) -c listen_addresses=\((["127.0.0.1"] + addresses).joined(separator: ","))"
            + " -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" + tlsSettings
        try start()
        Clusters.add(folder.path)
    }

    /// Starts the server (again, after ``stop()``), on the same port and data.
    public func start() throws(ClusterError) {
        try Self.run(["\(Self.binaries)/pg_ctl", "-D", folder.appendingPathComponent("data").path,
                      "-l", folder.appendingPathComponent("server.log").path, "-w", "-t", "60", "-o", settings, "start"])
    }

    /// Stops the server as a restart does (`fast`: every session is ended, committed data kept). Not `immediate`:
    /// this cluster runs without fsync and synchronous commit, so a crash-like stop would lose recent commits.
    public func stop() throws(ClusterError) {
        try Self.run(["\(Self.binaries)/pg_ctl", "-D", folder.appendingPathComponent("data").path, "-m", "fast", "-w", "stop"])
    }

    /// A certificate authority and a server certificate it signed (EC P-256, valid two days) for 127.0.0.1 and
    /// localhost, made with the openssl command; the server's key readable by its owner only, as PostgreSQL asks.
    static func makeCertificates(in dir: String) throws(ClusterError) {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: "\(dir)/san.ext", atomically: true, encoding: .utf8)
        } catch { throw ClusterError("cannot create \(dir): \(error)") }
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else {
            throw ClusterError("the openssl command is not installed; run scripts/install-debian.sh")
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run([openssl, "req", "-x509"] + key + ["-days", "2", "-subj", "/CN=recap test authority",
                 "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.crt"], asServer: false)
        try run([openssl, "req"] + key + ["-subj", "/CN=127.0.0.1", "-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr"], asServer: false)
        try run([openssl, "x509", "-req", "-in", "\(dir)/server.csr", "-CA", "\(dir)/ca.crt", "-CAkey", "\(dir)/ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "\(dir)/san.ext", "-out", "\(dir)/server.crt"], asServer: false)
        guard chmod("\(dir)/server.key", 0o600) == 0 else { throw ClusterError("cannot chmod \(dir)/server.key") }
    }

    /// Stops the server and removes its folder.
    public func remove() {
        Self.stop(folder.path)
        Clusters.remove(folder.path)
    }

    /// A new, empty database on the cluster, as a `postgres://` URL naming `host` (loopback by default).
    public func makeDatabase(host: String = "127.0.0.1") throws -> String {
        let name = "t\(counter.next())_\(UInt32.random(in: 0...UInt32.max))"
        try Self.run(["\(Self.binaries)/createdb", "-h", "127.0.0.1", "-p", "\(port)", "-U", "recap", name], asServer: false)
        return "postgres://recap@\(host):\(port)/\(name)"
    }

    // MARK: - Processes

    /// Runs a PostgreSQL program, waits, and returns what it printed. Output goes to a log file (a pipe could be
    /// held open by the server). posix_spawn + waitpid rather than Foundation's Process, whose waitUntilExit was
    /// seen never to return once `pg_ctl start` had left a daemon behind.
    @discardableResult
    public static func run(_ arguments: [String], asServer: Bool = true) throws(ClusterError) -> String {
        var command = arguments
        if asServer && getuid() == 0 { command = ["/usr/sbin/runuser", "-u", "nobody", "--"] + command }
        let shown = command.joined(separator: " ")
        let log = "/tmp/recap-pg-cmd-\(UUID().uuidString).log"
        defer { unlink(log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw ClusterError("\(shown) did not start: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ClusterError("\(shown) failed (wait status \(status)): \(output)")
        }
        return (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    }

    static func stop(_ folder: String) {
        let data = "\(folder)/data"
        if FileManager.default.fileExists(atPath: "\(data)/postmaster.pid") {
            try? run(["\(binaries)/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Clusters left by test processes that died before their atexit ran.
    static func sweepLeftovers() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for name in names where name.hasPrefix(folderPrefix) && !name.hasPrefix("recap-pg-cmd-") {
            let folder = "/tmp/\(name)"
            guard let text = try? String(contentsOfFile: "\(folder)/owner.pid", encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH { stop(folder) }
        }
    }

    /// A port nobody listens on now: bind port 0 on loopback, read what the kernel chose, close.
    public static func freePort() throws(ClusterError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClusterError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ClusterError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The clusters to stop at exit (a C atexit handler cannot capture context).
enum Clusters {
    // nonisolated(unsafe): only touched under `lock`.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var folders: [String] = []
    nonisolated(unsafe) private static var registered = false

    static func add(_ folder: String) {
        lock.withLock {
            folders.append(folder)
            if !registered { registered = true; atexit { Clusters.all().forEach(TestCluster.stop) } }
        }
    }
    static func remove(_ folder: String) { lock.withLock { folders.removeAll { $0 == folder } } }
    static func all() -> [String] { lock.withLock { folders } }
}

public struct ClusterError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

final class Counter: @unchecked Sendable {
    // @unchecked: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
