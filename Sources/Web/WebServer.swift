import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `recap serve`: a read-only web page over an output folder. Routes (GET and HEAD only; any other method is
/// answered 405):
///
///     /                      the library: every video with title, duration, contact sheet, tags, status
///     /video/{jobID}[?t=S]   the player with subtitles, chapters, scenes and the clickable transcript
///     /search?q=             search page          /api/search?q=&limit=   the same as JSON
///     /media/{jobID}         the original media (byte ranges)
///     /files/{jobID}/{kind}  an output: json, vtt, srt, jpg (the contact sheet)
///
/// Nothing in a URL is ever used as a path: files are found from the store by job id and kind, resolved,
/// and checked (see ``Archive``).
public struct WebServer: Sendable {
    public let archive: Archive
    public let searcher: any ArchiveSearcher
    public var host: String
    public var port: Int
    /// Accept corrections from the video pages (`recap serve --review`); otherwise nothing can be written.
    public var review = false

    /// How long a graceful stop waits for responses in flight (a video being streamed) before cutting them.
    public static let shutdownGrace: Duration = .seconds(2)

    public init(archive: Archive, searcher: any ArchiveSearcher, host: String = "127.0.0.1", port: Int = 8470) {
        self.archive = archive; self.searcher = searcher; self.host = host; self.port = port
    }

    /// Serves until `stop` fires, the task is cancelled, or (with `handleSignals`) SIGINT or SIGTERM arrives;
    /// a stop or a signal shuts down gracefully (requests in flight finish). `onRunning` receives the base URL
    /// once the socket is bound (with the real port when `port` is 0).
    public func run(handleSignals: Bool, stop: StopSwitch? = nil,
                    onRunning: @escaping @Sendable (URL) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "recap.serve")
        logger.logLevel = .warning
        let host = self.host
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") ? "[\(host)]" : host
                await onRunning(URL(string: "http://\(shown):\(port)/")!)
            },
            logger: logger)
        var config = ServiceGroupConfiguration(
            services: [.init(service: app)], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger)
        // A player holding a paused video's response open would otherwise hold the shutdown forever.
        config.maximumGracefulShutdownDuration = Self.shutdownGrace
        let group = ServiceGroup(configuration: config)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            if let stop {
                tasks.addTask {
                    for await _ in stop.fired {}
                    if !Task.isCancelled { await group.triggerGracefulShutdown() }
                }
            }
            try await group.run()
            tasks.cancelAll()
        }
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ReadOnlyMiddleware(review: review))
        let archive = self.archive, searcher = self.searcher, review = self.review
        /// Each route answers GET, and HEAD with the same headers and no body.
        func get(_ path: RouterPath, _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) {
            router.get(path, use: handler)
            router.head(path) { request, context in try await handler(request, context).createHeadResponse() }
        }

        get("/") { _, _ in try html(Pages.library(archive.entries())) }

        get("/video/:id") { _, context in
            guard let id = context.parameters.get("id", as: Int64.self), let e = try archive.entry(id: id) else {
                return html(Pages.message("Not found", "There is no such video."), status: .notFound)
            }
            let form = review ? Review.form(e, corrections: try archive.store.corrections(jobID: id)) : ""
            return html(Pages.video(e, hasMedia: archive.mediaFile(e.job) != nil, review: form))
        }
        if review {
            router.post("/video/:id/corrections") { request, context in
                guard let id = context.parameters.get("id", as: Int64.self) else { return notFound() }
                return try await Review.save(request, id: id, archive: archive)
            }
        }

        get("/search") { request, _ in
            let q = Query(request.uri.query)["q"] ?? ""
            let hits = try await searcher.search(q, limit: 50)
            var titles: [Int64: String] = [:]
            for id in Set(hits.map(\.jobID)) { titles[id] = try archive.entry(id: id)?.title }
            return html(Pages.search(query: q, hits: hits, titles: titles))
        }

        get("/api/search") { request, _ in
            let query = Query(request.uri.query)
            let q = query["q"] ?? ""
            let limit = min(max(Int(query["limit"] ?? "") ?? 20, 1), 500)
            let hits = try await searcher.search(q, limit: limit)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(SearchAnswer(query: q, hits: hits))
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }

        get("/media/:id") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self), let job = try archive.store.job(id),
                  let path = archive.mediaFile(job) else { return notFound() }
            return FileResponses.response(path: path, contentType: mediaType(path), request: request)
        }

        get("/files/:id/:kind") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self),
                  let kind = context.parameters.get("kind").flatMap(OutputKind.init(rawValue:)),
                  let job = try archive.store.job(id), let path = archive.outputFile(job, kind) else { return notFound() }
            let download = Query(request.uri.query)["download"] != nil ? attachmentName(path) : nil
            return FileResponses.response(path: path, contentType: kind.contentType, request: request, download: download)
        }
        return router
    }
}

/// Fires once to stop a running ``WebServer`` gracefully (tests; a host process embedding the server).
public final class StopSwitch: Sendable {
    let fired: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    public init() { (fired, continuation) = AsyncStream<Void>.makeStream() }
    public func fire() { continuation.finish() }
}

struct SearchAnswer: Codable {
    var query: String
    var hits: [WebSearchHit]
}

/// GET and HEAD only: the server has no write endpoint, and says so with 405 for every other method.
struct ReadOnlyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    /// With `--review`, the one write: a correction posted from a video page.
    var review = false
    static let noSniff = HTTPField.Name("X-Content-Type-Options")!
    static let csp = HTTPField.Name("Content-Security-Policy")!
    /// Defence in depth behind the escaping: the pages load nothing from elsewhere and talk to no other host.
    static let policy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'; "
        + "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let correction = review && request.method == .post && request.uri.path.hasPrefix("/video/")
            && request.uri.path.hasSuffix("/corrections")
        guard request.method == .get || request.method == .head || correction else {
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "read-only: only GET and HEAD are served\n")))
        }
        var response = try await next(request, context)
        response.headers[Self.noSniff] = "nosniff"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[Self.csp] = Self.policy
        }
        return response
    }
}

/// A query string's parameters, form-decoded (`+` is a space).
struct Query {
    var values: [String: String] = [:]
    init(_ query: String?) {
        for pair in (query ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            let key = decode(kv[0])
            if values[key] == nil { values[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
    }
    subscript(_ key: String) -> String? { values[key] }
}

func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
             body: .init(byteBuffer: ByteBuffer(string: page)))
}

func notFound() -> Response {
    Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
             body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
}

/// The media's content type, from its extension (the browser sniffs the real codec from the bytes).
func mediaType(_ path: String) -> String {
    switch (path as NSString).pathExtension.lowercased() {
    case "mp4", "m4v": "video/mp4"
    case "mov": "video/quicktime"
    case "webm": "video/webm"
    case "mkv": "video/x-matroska"
    case "ogv": "video/ogg"
    case "m4a": "audio/mp4"
    case "mp3": "audio/mpeg"
    case "wav": "audio/wav"
    case "ogg", "oga", "opus": "audio/ogg"
    case "flac": "audio/flac"
    case "avi": "video/x-msvideo"
    default: "application/octet-stream"
    }
}

/// A file name safe inside a quoted `Content-Disposition` value: printable ASCII without quotes or backslashes.
func attachmentName(_ path: String) -> String {
    let name = String((path as NSString).lastPathComponent.unicodeScalars
        .map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" && $0.value != 0x7f ? Character($0) : "_" })
    return name.isEmpty ? "recap.json" : name
}
