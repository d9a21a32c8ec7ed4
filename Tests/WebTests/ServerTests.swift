import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import Testing
@testable import Web

/// The server over a real output folder, through real HTTP on a free port.
@Suite struct ServerTests {
    @Test func libraryListsEveryJobWithItsStatus() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        let page = try await server.get("/")
        await server.stop()
        #expect(page.status == 200)
        #expect(page.header("content-type")?.hasPrefix("text/html") == true)
        let html = page.text
        #expect(html.contains("River Deltas Lecture"))
        #expect(html.contains("href=\"/video/\(f.narratedID)\""))
        #expect(html.contains("<img src=\"/files/\(f.narratedID)/jpg\""))
        #expect(html.contains("0:30"), "the narrated clip's duration")
        #expect(html.contains(">geography<"))
        #expect(html.contains("data-job=\"\(f.failedID)\""))
        #expect(html.contains("decoder gave up &lt;at&gt; 0:03"), "the failure's reason, escaped")
        #expect(html.contains("status pending"))
        #expect(!html.contains("<script"), "no script on the library page, let alone the hostile one")
    }

    @Test func hostileTextIsEscapedOnEveryPage() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        let library = try await server.get("/").text
        let video = try await server.get("/video/\(f.hostileID)").text
        let search = try await server.get("/search?q=%3Cscript%3Ealert").text
        await server.stop()
        let escapedTitle = "&quot;&gt;&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; co"
        #expect(library.contains(escapedTitle))
        #expect(video.contains(escapedTitle))
        #expect(library.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(video.contains("&lt;/li&gt;&lt;script&gt;alert(&#39;line&#39;)&lt;/script&gt;"))
        #expect(video.contains("&lt;i&gt;Eve&lt;/i&gt;"))
        for page in [library, video, search] {
            #expect(!page.contains("<script>alert"))
            #expect(!page.contains("<img src=x"))
            #expect(!page.contains("<b>bold"))
            #expect(!page.contains("<i>Eve"))
        }
        #expect(search.contains("value=\"&lt;script&gt;alert\""))
    }

    @Test func videoPageHasPlayerTrackTranscriptAndDownloads() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        let page = try await server.get("/video/\(f.narratedID)?t=5.481")
        let vtt = try await server.get("/files/\(f.narratedID)/vtt")
        let json = try await server.get("/files/\(f.narratedID)/json?download=1")
        let missing = try await server.get("/video/999999")
        await server.stop()
        let html = page.text
        #expect(page.status == 200)
        #expect(html.contains("<video id=\"player\" controls preload=\"metadata\" src=\"/media/\(f.narratedID)\">"))
        #expect(html.contains("<track kind=\"subtitles\" src=\"/files/\(f.narratedID)/vtt\" label=\"Transcript\" srclang=\"en\" default>"))
        #expect(html.contains("data-t=\"5.481\""), "transcript lines and chapters seek")
        #expect(html.contains("<span class=\"speaker\">Speaker 1</span>A delta forms where a slow river meets the sea."))
        #expect(html.contains("How a delta forms"), "chapters")
        #expect(html.contains("A colour test pattern"), "scenes")
        #expect(html.contains("href=\"/files/\(f.narratedID)/json?download=1\""))
        #expect(vtt.status == 200)
        #expect(vtt.header("content-type")?.hasPrefix("text/vtt") == true)
        #expect(vtt.text.hasPrefix("WEBVTT"))
        #expect(vtt.header("x-content-type-options") == "nosniff")
        #expect(page.header("content-security-policy")?.contains("default-src 'none'") == true)
        #expect(json.status == 200)
        #expect(json.header("content-disposition") == "attachment; filename=\"narrated.recap.json\"")
        #expect(json.text.contains("\"schema_version\""))
        #expect(missing.status == 404)
    }

    @Test func searchPageAndAPI() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        let api = try await server.get("/api/search?q=sand+mud&limit=5")
        let page = try await server.get("/search?q=sand+mud")
        let empty = try await server.get("/api/search?q=%22%20OR%20*")
        await server.stop()
        #expect(api.status == 200)
        #expect(api.header("content-type")?.hasPrefix("application/json") == true)
        let hits = try JSONDecoder().decode(SearchAnswer.self, from: api.body).hits
        #expect(hits.count == 1)
        #expect(hits.first?.jobID == f.narratedID)
        #expect(hits.first?.kind == "transcript")
        #expect(hits.first?.start == 9.754)
        #expect(hits.first?.snippet.contains("[sand]") == true)
        #expect(page.text.contains("href=\"/video/\(f.narratedID)?t=9.754\""))
        #expect(page.text.contains("<mark>sand</mark> and <mark>mud</mark>"))
        #expect(empty.status == 200, "FTS operators are words, never a failing query")
    }

    @Test func searchGoesThroughTheInjectedSearcher() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let fake = ClosureSearcher { q, limit in
            [WebSearchHit(jobID: 42, path: "/x/\(q).mp4", kind: "vector", start: 3.5, end: 4, snippet: "limit \(limit)", score: 0.9)]
        }
        let server = try await RunningServer.start(f, searcher: fake)
        let api = try await server.get("/api/search?q=anything&limit=7")
        await server.stop()
        let hits = try JSONDecoder().decode(SearchAnswer.self, from: api.body).hits
        #expect(hits == [WebSearchHit(jobID: 42, path: "/x/anything.mp4", kind: "vector", start: 3.5, end: 4, snippet: "limit 7", score: 0.9)])
    }

    @Test func mediaServesByteRanges() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let bytes = try Data(contentsOf: f.narratedMedia)
        let size = bytes.count
        let server = try await RunningServer.start(f)
        let whole = try await server.get("/media/\(f.narratedID)")
        let part = try await server.get("/media/\(f.narratedID)", headers: [("Range", "bytes=1000-1999")])
        let open = try await server.get("/media/\(f.narratedID)", headers: [("Range", "bytes=\(size - 10)-")])
        let suffix = try await server.get("/media/\(f.narratedID)", headers: [("Range", "bytes=-300")])
        let beyond = try await server.get("/media/\(f.narratedID)", headers: [("Range", "bytes=\(size)-")])
        let backwards = try await server.get("/media/\(f.narratedID)", headers: [("Range", "bytes=50-10")])
        let head = try await server.get("/media/\(f.narratedID)", method: .HEAD)
        await server.stop()
        #expect(whole.status == 200)
        #expect(whole.body == bytes)
        #expect(whole.header("accept-ranges") == "bytes")
        #expect(whole.header("content-type") == "video/mp4")
        #expect(part.status == 206)
        #expect(part.header("content-range") == "bytes 1000-1999/\(size)")
        #expect(part.header("content-length") == "1000")
        #expect(part.body == bytes[1000..<2000])
        #expect(open.status == 206)
        #expect(open.body == bytes[(size - 10)...])
        #expect(suffix.status == 206)
        #expect(suffix.header("content-range") == "bytes \(size - 300)-\(size - 1)/\(size)")
        #expect(suffix.body == bytes[(size - 300)...])
        #expect(beyond.status == 416)
        #expect(beyond.header("content-range") == "bytes */\(size)")
        #expect(backwards.status == 416)
        #expect(head.status == 200)
        #expect(head.header("content-length") == "\(size)")
        #expect(head.body.isEmpty)
    }

    @Test func rangeHeaderParsing() {
        #expect(ByteRange(header: nil, size: 100) == .whole)
        #expect(ByteRange(header: "bytes=0-0", size: 100) == .part(0...0))
        #expect(ByteRange(header: "bytes=90-200", size: 100) == .part(90...99))
        #expect(ByteRange(header: "bytes=-200", size: 100) == .part(0...99))
        #expect(ByteRange(header: "bytes=0-1,5-6", size: 100) == .whole)
        #expect(ByteRange(header: "items=0-1", size: 100) == .whole)
        #expect(ByteRange(header: "bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=x-1", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=+1-2", size: 100) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-", size: 0) == .unsatisfiable)
    }

    @Test func traversalAndSymlinkEscapesAreRefused() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        let id = f.narratedID
        var answers: [(String, Int, String)] = []
        for target in [
            "/files/\(id)/../../../../../../etc/passwd", "/files/\(id)/..%2f..%2f..%2fetc%2fpasswd",
            "/files/\(id)/%2e%2e%2f%2e%2e%2fsecret.txt", "/media/\(id)/../../secret.txt", "/media/..%2F..%2Fsecret.txt",
            "/%2e%2e/%2e%2e/etc/passwd", "/files/\(id)/vtt/../../../secret.txt", "/files/\(id)/json%00.jpg",
            "/files/\(f.escapingOutputID)/vtt", "/media/\(f.swappedMediaID)", "/files/\(id)/store",
        ] {
            let r = try rawRequest(server.url, "GET \(target) HTTP/1.1")
            answers.append((target, r.status, r.text))
        }
        let escaping = try await server.get("/files/\(f.escapingOutputID)/json")
        let page = try await server.get("/video/\(f.swappedMediaID)")
        await server.stop()
        for (target, status, text) in answers {
            #expect((400..<500).contains(status), "\(target) answered \(status)")
            #expect(!text.contains(Fixture.secretText), "\(target) leaked the secret")
            #expect(!text.contains("root:x:0:0"), "\(target) leaked /etc/passwd")
        }
        #expect(escaping.status == 200, "the same job's other outputs, inside --out, are still served")
        #expect(page.text.contains("The original media file is not available"))
    }

    @Test func onlyGetAndHeadAreAnswered() async throws {
        let f = try Fixture()
        defer { f.cleanUp() }
        let server = try await RunningServer.start(f)
        var statuses: [String: Int] = [:]
        for (method, path) in [(HTTPMethod.POST, "/"), (.POST, "/media/\(f.narratedID)"), (.PUT, "/files/\(f.narratedID)/json"),
                               (.DELETE, "/video/\(f.narratedID)"), (.PATCH, "/api/search?q=x"), (.POST, "/nowhere")] {
            let r = try await server.get(path, method: method)
            statuses["\(method) \(path)"] = r.status
            #expect(r.header("allow") == "GET, HEAD")
        }
        await server.stop()
        #expect(statuses.values.allSatisfy { $0 == 405 }, "\(statuses)")
        let stillThere = try String(contentsOf: f.out.appendingPathComponent("talks/narrated.recap.json"), encoding: .utf8)
        #expect(stillThere.contains("River Deltas Lecture"))
    }
}
