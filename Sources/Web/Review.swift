import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import Pipeline
import Store

/// `recap serve --review`: a person corrects a title, summary or caption on the video page. Corrections go
/// to the job store (``JobStore/addCorrection``), beside the model's answer, never over it; `recap export
/// --format sft` turns them into fine-tuning examples. The one write the server then accepts is
/// `POST /video/{id}/corrections`, from its own pages only (see ``sameOrigin``).
enum Review {
    /// The result's fields a person may correct: its top-level texts (title, summary, one_line, paragraph,
    /// caption…), and each social post's text.
    static func fields(_ out: RecapOutput) -> [(path: String, value: String)] {
        var list: [(String, String)] = []
        if case .object(let top) = out.results {
            for (key, value) in top.sorted(by: { $0.key < $1.key }) {
                if let s = value.stringValue { list.append((key, s)) }
                if case .array(let items) = value {
                    for (i, item) in items.enumerated() {
                        if let text = item["text"]?.stringValue { list.append(("\(key)/\(i)/text", text)) }
                    }
                }
            }
        }
        return list
    }

    static func form(_ e: VideoEntry, corrections: [Correction]) -> String {
        guard let out = e.output else { return "" }
        let fields = fields(out)
        guard !fields.isEmpty else { return "" }
        let current = Dictionary(corrections.map { ($0.field, $0.value) }, uniquingKeysWith: { $1 })
        var html = "<details class=\"review\"><summary>Review: correct the model's answer</summary>"
        for f in fields {
            let now = current[f.path] ?? f.value
            let note = current[f.path] == nil ? "" : " <span class=\"muted\">(corrected; the model wrote: \(HTML.escape(f.value)))</span>"
            html += "<form method=\"post\" action=\"/video/\(e.job.id)/corrections\"><label>\(HTML.escape(f.path))\(note)"
                + "<textarea name=\"value\" rows=\"\(now.count > 120 ? 4 : 1)\">\(HTML.escape(now))</textarea></label>"
                + "<input type=\"hidden\" name=\"field\" value=\"\(HTML.escape(f.path))\"><button>Save</button></form>"
        }
        return html + "</details>"
    }

    /// Stores one correction from a form post and sends the browser back to the page.
    static func save(_ request: Request, id: Int64, archive: Archive) async throws -> Response {
        guard sameOrigin(request) else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "corrections are accepted from this server's own pages only\n")))
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let form = Query(String(buffer: body))
        guard let entry = try archive.entry(id: id), let out = entry.output,
              let field = form["field"], let value = form["value"],
              let original = fields(out).first(where: { $0.path == field }) else {
            return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "not a field of this video's result\n")))
        }
        try archive.store.addCorrection(jobID: id, field: field, value: value, original: original.value)
        return Response(status: .seeOther, headers: [.location: "/video/\(id)?saved=1"])
    }

    /// A browser sends Origin (or at least Sec-Fetch-Site) with a form post; a page on another site posting
    /// to this local server must be refused (the server has no login).
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin" && site != "none" { return false }
        guard let origin = request.headers[HTTPField.Name("Origin")!] else { return true }
        guard let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!] else { return false }
        return origin == "http://\(host)"
    }
}
