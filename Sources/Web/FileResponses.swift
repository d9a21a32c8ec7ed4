import Foundation
import Hummingbird
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a `Range` header asks of a file of `size` bytes.
enum ByteRange: Equatable {
    /// No range (or one we may ignore: another unit, several ranges): the whole file, 200.
    case whole
    /// One satisfiable range: 206 with these bytes.
    case part(ClosedRange<Int64>)
    /// A bytes range that cannot be served: 416.
    case unsatisfiable

    /// Parses `bytes=A-B`, `bytes=A-` and `bytes=-N` (RFC 9110 §14.1.2). Several ranges are answered with
    /// the whole file, which the RFC allows; a malformed or out-of-file bytes range is unsatisfiable.
    init(header: String?, size: Int64) {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { self = .whole; return }
        guard header.lowercased().hasPrefix("bytes=") else { self = .whole; return }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        if spec.contains(",") { self = .whole; return }
        guard let dash = spec.firstIndex(of: "-") else { self = .unsatisfiable; return }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        func number(_ s: String) -> Int64? { s.allSatisfy(\.isASCII) && s.allSatisfy(\.isNumber) ? Int64(s) : nil }
        if first.isEmpty {
            // The last N bytes.
            guard let n = number(last), n > 0, size > 0 else { self = .unsatisfiable; return }
            self = .part(max(0, size - n)...(size - 1))
            return
        }
        guard let start = number(first), start < size else { self = .unsatisfiable; return }
        if last.isEmpty { self = .part(start...(size - 1)); return }
        guard let end = number(last), end >= start else { self = .unsatisfiable; return }
        self = .part(start...min(end, size - 1))
    }
}

/// An open file descriptor, closed when the last response body holding it is gone (even if the body is
/// never written, e.g. a HEAD request or a client that went away).
final class OpenFile: @unchecked Sendable {
    let fd: Int32
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        self.fd = fd
    }
    deinit { close(fd) }

    var size: Int64? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }
}

enum FileResponses {
    /// Bytes read and sent per step: memory stays at about one chunk per connection whatever the file size.
    static let chunkSize = 256 * 1024

    /// A file as a (possibly partial) response. `path` must already be resolved and checked; it is opened
    /// without following a symlink, so a link swapped in after the check is refused.
    static func response(path: String, contentType: String, request: Request, download: String? = nil) -> Response {
        guard let file = OpenFile(path: path), let size = file.size else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        var headers: HTTPFields = [.contentType: contentType, .acceptRanges: "bytes", .cacheControl: "no-cache"]
        if let download { headers[.contentDisposition] = "attachment; filename=\"\(download)\"" }
        switch ByteRange(header: request.headers[.range], size: size) {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .rangeNotSatisfiable, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(string: "range not satisfiable\n")))
        case .whole:
            return Response(status: .ok, headers: headers, body: body(file, size == 0 ? nil : 0...(size - 1)))
        case .part(let r):
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            return Response(status: .partialContent, headers: headers, body: body(file, r))
        }
    }

    /// Streams `range` of the file in chunks, reading on NIO's blocking-I/O thread pool.
    static func body(_ file: OpenFile, _ range: ClosedRange<Int64>?) -> ResponseBody {
        guard let range else { return ResponseBody() }
        return ResponseBody(contentLength: Int(range.upperBound - range.lowerBound + 1)) { writer in
            var offset = range.lowerBound
            while offset <= range.upperBound {
                let want = Int(min(Int64(chunkSize), range.upperBound - offset + 1))
                let at = offset
                let chunk: ByteBuffer = try await NIOThreadPool.singleton.runIfActive {
                    var buffer = ByteBufferAllocator().buffer(capacity: want)
                    let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw in
                        var n = -1
                        repeat { n = pread(file.fd, raw.baseAddress, want, off_t(at)) } while n < 0 && errno == EINTR
                        return max(n, 0)
                    }
                    guard got > 0 else { throw FileShrank() }
                    return buffer
                }
                try await writer.write(chunk)
                offset += Int64(chunk.readableBytes)
            }
            try await writer.finish(nil)
        }
    }

    struct FileShrank: Error {}
}
