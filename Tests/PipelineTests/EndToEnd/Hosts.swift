import Foundation

/// Hosts simulated on one machine: each a Linux network namespace joined to this one by a veth pair
/// (10.231.N.1 here, 10.231.N.2 there). A host reaches the database only over its link, so cutting the link
/// cuts it off; its engine (a stand-in) runs on its own loopback, so only the database is remote.
/// Needs root and `ip netns`; ``available`` says whether this machine lets us.
final class SimulatedHost {
    let name: String
    let index: Int
    var hostAddress: String { "10.231.\(index).1" }
    var linkHere: String { "rcp\(index)h\(getpid() % 10000)" }

    static let ip = "/usr/sbin/ip"

    /// Whether namespaces and veth pairs can be made here (root, iproute2, a kernel that allows it), and if
    /// not, why: the test then says it was skipped and for what reason.
    static let availability: String? = {
        guard getuid() == 0 else { return "not root: network namespaces need CAP_SYS_ADMIN" }
        guard FileManager.default.isExecutableFile(atPath: ip) else { return "no \(ip) (Debian package iproute2)" }
        let probe = "rcpprobe\(getpid())"
        guard (try? sh([ip, "netns", "add", probe])) != nil else { return "`ip netns add` is not permitted here" }
        _ = try? sh([ip, "netns", "del", probe])
        return nil
    }()

    init(index: Int) throws {
        self.index = index
        name = "recap-host\(index)-\(getpid())"
        let there = "rcp\(index)n\(getpid() % 10000)"
        try Self.sh([Self.ip, "netns", "add", name])
        try Self.sh([Self.ip, "link", "add", linkHere, "type", "veth", "peer", "name", there])
        try Self.sh([Self.ip, "link", "set", there, "netns", name])
        try Self.sh([Self.ip, "addr", "add", "\(hostAddress)/24", "dev", linkHere])
        try Self.sh([Self.ip, "link", "set", linkHere, "up"])
        try Self.sh([Self.ip, "-n", name, "addr", "add", "10.231.\(index).2/24", "dev", there])
        try Self.sh([Self.ip, "-n", name, "link", "set", there, "up"])
        try Self.sh([Self.ip, "-n", name, "link", "set", "lo", "up"])
    }

    /// Cuts the host off (its link goes down: packets are lost, connections stall), or heals it.
    func cut(_ off: Bool) throws { try Self.sh([Self.ip, "link", "set", linkHere, off ? "down" : "up"]) }

    /// Starts `arguments` inside the namespace, its output to `log` (a file: a pipe nobody reads could fill).
    func start(_ arguments: [String], env: [String: String] = [:], log: URL) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.ip)
        p.arguments = ["netns", "exec", name] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.merge(env) { $1 }
        p.environment = environment
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The stand-in engine on this host's loopback; returns its process and port.
    func startEngine(log: URL, delay: Double) throws -> (Process, Int) {
        let out = log.deletingPathExtension().appendingPathExtension("port")
        let p = try start(["python3", repoRoot.appendingPathComponent("scripts/standin-openai.py").path, log.path, "--delay", "\(delay)"], log: out)
        for _ in 0..<100 {
            if let text = try? String(contentsOf: out, encoding: .utf8), let port = Int(text.split(separator: "\n").first ?? "") { return (p, port) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        p.terminate()
        throw HostError("the stand-in engine in \(name) printed no port")
    }

    func remove() {
        _ = try? Self.sh([Self.ip, "link", "del", linkHere])
        _ = try? Self.sh([Self.ip, "netns", "del", name])
    }

    @discardableResult
    static func sh(_ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: arguments[0])
        p.arguments = Array(arguments.dropFirst())
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw HostError("\(arguments.joined(separator: " ")) exited \(p.terminationStatus)") }
        return 0
    }
}

struct HostError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
