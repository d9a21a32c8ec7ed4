import Engine
import Foundation
import Pipeline

/// The server-rendered pages. Every text from the store or an output file is untrusted and goes through
/// `HTML.escape`; numbers are formatted here, never copied from input.
enum Pages {
    static func library(_ entries: [VideoEntry]) -> String {
        let done = entries.filter { $0.status == .done }.count
        var cards = ""
        for e in entries {
            let id = e.job.id
            let thumb = e.available.contains(.jpg)
                ? "<img src=\"/files/\(id)/jpg\" alt=\"\" loading=\"lazy\">" : "<div class=\"noimg\"></div>"
            let tags = e.tags.map { "<span class=\"tag\">\(HTML.escape($0))</span>" }.joined()
            let reason = e.status.reason.map { "<div class=\"reason\">\(HTML.escape($0))</div>" } ?? ""
            cards += """
                <article class="card" data-job="\(id)"><a href="/video/\(id)">\(thumb)</a><div class="body">
                <a class="title" href="/video/\(id)">\(HTML.escape(e.title))</a>
                <div class="muted">\(HTML.escape((e.job.path as NSString).lastPathComponent))\(e.duration.map { " · " + HTML.clock($0) } ?? "")</div>
                <div class="status \(e.status.label)">\(e.status.label)</div>\(reason)
                <div class="tags">\(tags)</div></div></article>

                """
        }
        let body = entries.isEmpty
            ? "<h1>Library</h1><p class=\"muted\">No videos in this store yet: run <code>recap run FOLDER --out OUT</code> first.</p>"
            : "<h1>Library</h1><p class=\"muted\">\(entries.count) videos, \(done) done.</p><div class=\"grid\">\(cards)</div>"
        return HTML.page(title: "Library", body: body)
    }

    static func video(_ e: VideoEntry, hasMedia: Bool, review: String = "") -> String {
        let id = e.job.id
        var meta = [HTML.escape(e.job.path)]
        if let d = e.duration { meta.append(HTML.clock(d)) }
        var body = "<h1>\(HTML.escape(e.title))</h1><div class=\"muted\">\(meta.joined(separator: " · "))</div>"
        body += "<div class=\"status \(e.status.label)\">\(e.status.label)</div>"
        if let why = e.status.reason { body += "<div class=\"reason\">\(HTML.escape(why))</div>" }
        if !e.tags.isEmpty { body += "<div class=\"tags\">" + e.tags.map { "<span class=\"tag\">\(HTML.escape($0))</span>" }.joined() + "</div>" }

        var player = ""
        if hasMedia {
            let lang = e.output?.transcript?.language.map { " srclang=\"\(HTML.escape($0))\"" } ?? ""
            let track = e.available.contains(.vtt)
                ? "<track kind=\"subtitles\" src=\"/files/\(id)/vtt\" label=\"Transcript\"\(lang) default>" : ""
            player = "<video id=\"player\" controls preload=\"metadata\" src=\"/media/\(id)\">\(track)</video>"
        } else {
            player = "<p class=\"reason\">The original media file is not available (moved, changed or unreadable).</p>"
        }
        var side = ""
        if let out = e.output {
            if let line = out.results["one_line"]?.stringValue { player += "<p>\(HTML.escape(line))</p>" }
            if let para = out.results["paragraph"]?.stringValue { player += "<p class=\"muted\">\(HTML.escape(para))</p>" }
            let chapters = Self.chapters(out)
            if !chapters.isEmpty {
                side += "<h2>Chapters</h2><ol class=\"lines chapters\">" + chapters.map {
                    "<li data-t=\"\(HTML.seconds($0.start))\"><span class=\"t\">\(HTML.clock($0.start))</span>\(HTML.escape($0.title))</li>"
                }.joined() + "</ol>"
            }
            if !out.scenes.isEmpty {
                side += "<h2>Scenes</h2><ol class=\"lines scenes\">" + out.scenes.map {
                    "<li data-t=\"\(HTML.seconds($0.start))\"><span class=\"t\">\(HTML.clock($0.start))–\(HTML.clock($0.end))</span>\(HTML.escape($0.description))</li>"
                }.joined() + "</ol>"
            }
            let segments = out.transcript?.segments ?? []
            side += "<h2>Transcript</h2>"
            side += segments.isEmpty ? "<p class=\"muted\">No speech.</p>" : "<ol class=\"lines transcript\" id=\"transcript\">" + segments.map {
                let who = $0.speaker.map { "<span class=\"speaker\">\(HTML.escape($0))</span>" } ?? ""
                return "<li data-t=\"\(HTML.seconds($0.start))\" data-end=\"\(HTML.seconds($0.end))\"><span class=\"t\">\(HTML.clock($0.start))</span>\(who)\(HTML.escape($0.text))</li>"
            }.joined() + "</ol>"
        }
        var links: [String] = []
        if e.available.contains(.json) { links.append("<a href=\"/files/\(id)/json?download=1\" download>Download JSON</a>") }
        if e.available.contains(.vtt) { links.append("<a href=\"/files/\(id)/vtt\">WebVTT</a>") }
        if e.available.contains(.srt) { links.append("<a href=\"/files/\(id)/srt\">SRT</a>") }
        if e.available.contains(.jpg) { links.append("<a href=\"/files/\(id)/jpg\">Contact sheet</a>") }
        body += "<div class=\"links\">\(links.joined())</div>" + review
        body += "<div class=\"player\"><div>\(player)</div><div class=\"side\">\(side.isEmpty ? "<p class=\"muted\">No outputs yet.</p>" : side)</div></div>"
        return HTML.page(title: e.title, body: body, script: hasMedia ? playerScript : "")
    }

    struct Chapter { var start: Double; var title: String }

    /// The model's chapters (`results.chapters`), else the container's own.
    static func chapters(_ out: RecapOutput) -> [Chapter] {
        if case .array(let items)? = out.results["chapters"] {
            let list = items.compactMap { c -> Chapter? in
                guard let s = c["start"]?.doubleValue, s.isFinite else { return nil }
                return Chapter(start: s, title: c["title"]?.stringValue ?? "")
            }
            if !list.isEmpty { return list }
        }
        return out.source.probe.chapters.map { Chapter(start: $0.start, title: $0.title ?? "") }
    }

    static func search(query: String, hits: [WebSearchHit], titles: [Int64: String]) -> String {
        var body = "<h1>Search</h1>"
        if query.trimmingCharacters(in: .whitespaces).isEmpty {
            body += "<p class=\"muted\">Type words to find in transcripts, scene descriptions, on-screen text and summaries.</p>"
        } else if hits.isEmpty {
            body += "<p class=\"muted\">No matches for “\(HTML.escape(query))”.</p>"
        } else {
            body += "<p class=\"muted\">\(hits.count) matches for “\(HTML.escape(query))”.</p><ul class=\"results\">"
            for h in hits {
                let href = "/video/\(h.jobID)" + (h.start.map { "?t=\(HTML.seconds($0))" } ?? "")
                let title = titles[h.jobID] ?? (h.path as NSString).lastPathComponent
                let at = h.start.map { " · " + HTML.clock($0) } ?? ""
                body += """
                    <li><a class="hit" href="\(HTML.escape(href))">\(HTML.escape(title))</a> <span class="muted">\(HTML.escape(h.kind))\(at)</span>
                    <div>\(HTML.snippet(h.snippet))</div></li>
                    """
            }
            body += "</ul>"
        }
        return HTML.page(title: query.isEmpty ? "Search" : query, query: query, body: body)
    }

    static func message(_ title: String, _ text: String) -> String {
        HTML.page(title: title, body: "<h1>\(HTML.escape(title))</h1><p class=\"muted\">\(HTML.escape(text))</p>")
    }

    /// Seeking: `?t=SECONDS` after `loadedmetadata`; any element with `data-t` seeks on click; the current
    /// transcript line is highlighted. `window.recapSeeked` records the first finished seek (for tests).
    static let playerScript = """
        (function(){var v=document.getElementById('player');if(!v)return;
        function seek(t){if(!(t>=0))return;var go=function(){v.currentTime=t;};
        if(v.readyState>=1)go();else v.addEventListener('loadedmetadata',go,{once:true});}
        v.addEventListener('seeked',function(){window.recapSeeked=v.currentTime;});
        var t=parseFloat(new URLSearchParams(location.search).get('t'));seek(t);
        document.addEventListener('click',function(e){var el=e.target.closest('[data-t]');if(!el)return;
        seek(parseFloat(el.dataset.t));var p=v.play();if(p)p.catch(function(){});});
        var lines=[].slice.call(document.querySelectorAll('#transcript li'));var cur=null;
        v.addEventListener('timeupdate',function(){var now=null,c=v.currentTime;
        for(var i=0;i<lines.length;i++){if(parseFloat(lines[i].dataset.t)<=c&&c<parseFloat(lines[i].dataset.end)){now=lines[i];break;}}
        if(now!==cur){if(cur)cur.classList.remove('now');if(now){now.classList.add('now');var box=now.closest('.side'),y=now.offsetTop;if(box&&(y<box.scrollTop||y>box.scrollTop+box.clientHeight-40))box.scrollTop=y-40;}cur=now;}});
        })();
        """
}
