import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 that is free right now (the kernel picks it). Another process could take it before
/// llama-server binds; the supervisor then retries with a new one.
enum FreePort {
    static func find() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EngineError.serverFailed(reason: "socket(): \(String(cString: strerror(errno)))", logTail: "") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw EngineError.serverFailed(reason: "bind(): \(String(cString: strerror(errno)))", logTail: "") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard named == 0 else { throw EngineError.serverFailed(reason: "getsockname(): \(String(cString: strerror(errno)))", logTail: "") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
