/// HTML escaping: every untrusted text (titles, transcripts, paths, tags) goes through `escape` before it
/// reaches a page.
public enum HTML {
    /// Escapes `& < > " '` so the text is safe in element content and in quoted attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension HTML {
    /// `m:ss` or `h:mm:ss`.
    static func clock(_ t: Double) -> String {
        let s = Int(max(0, t).rounded(.down))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
    }

    /// A time for a `data-t` attribute or a URL: seconds with at most three decimals.
    static func seconds(_ t: Double) -> String {
        let ms = Int((max(0, t) * 1000).rounded())
        if ms % 1000 == 0 { return String(ms / 1000) }
        var text = String(format: "%d.%03d", ms / 1000, ms % 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// An FTS snippet (matched terms in `[` `]`) as escaped HTML with the terms in `<mark>`.
    static func snippet(_ s: String) -> String {
        var out = "", open = false
        for ch in s {
            if ch == "[" && !open { out += "<mark>"; open = true }
            else if ch == "]" && open { out += "</mark>"; open = false }
            else { out += escape(String(ch)) }
        }
        return open ? out + "</mark>" : out
    }

    /// The page frame: title, the inline style sheet, a header with the search box, and `body`.
    static func page(title: String, query: String = "", body: String, script: String = "") -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Recap</title>
        <style>\(style)</style></head>
        <body><header><a class="home" href="/">Recap</a>
        <form action="/search" method="get" role="search"><input type="search" name="q" value="\(escape(query))" placeholder="Search transcripts, scenes, text…" aria-label="Search"><button>Search</button></form></header>
        <main>\(body)</main>\(script.isEmpty ? "" : "<script>\(script)</script>")</body></html>
        """
    }

    static let style = """
        :root{--fg:#1d1f23;--muted:#61656d;--line:#e3e5e8;--bg:#f6f7f9;--accent:#2457c5;--bad:#b3261e;--ok:#1e7d3a}
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#fff;border-bottom:1px solid var(--line)}
        header form{display:flex;gap:.4rem;flex:1;max-width:36rem}header input{flex:1;padding:.4rem .6rem;border:1px solid var(--line);border-radius:6px;font:inherit}
        button{font:inherit;cursor:pointer;border:1px solid var(--line);background:#fff;border-radius:6px;padding:.3rem .7rem}
        a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}.home{font-weight:700;font-size:1.1rem;color:var(--fg)}
        main{padding:1rem 1.2rem;max-width:78rem;margin:0 auto}h1{font-size:1.4rem;margin:.2rem 0 .6rem}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem}
        .card{background:#fff;border:1px solid var(--line);border-radius:8px;overflow:hidden;display:flex;flex-direction:column}
        .card img,.card .noimg{width:100%;aspect-ratio:16/9;object-fit:cover;background:#dfe2e6;display:block}
        .card .body{padding:.6rem .7rem;display:flex;flex-direction:column;gap:.3rem}.card .title{font-weight:600}
        .muted{color:var(--muted);font-size:.88rem}.tags{display:flex;flex-wrap:wrap;gap:.3rem}
        .tag{background:#eef1f6;border-radius:99px;padding:0 .5rem;font-size:.8rem}
        .review{margin:.6rem 0}.review form{margin:.4rem 0}.review label{display:block;font-size:.85rem}.review textarea{display:block;width:100%;max-width:48rem;font:inherit;padding:.3rem;border:1px solid var(--line);border-radius:6px}
        .status{font-size:.78rem;font-weight:600;text-transform:uppercase;letter-spacing:.03em}
        .status.done{color:var(--ok)}.status.failed{color:var(--bad)}.status.degraded{color:var(--bad)}.status.pending,.status.running,.status.cancelled{color:var(--muted)}
        .reason{color:var(--bad);font-size:.85rem;word-break:break-word}
        .player{display:grid;grid-template-columns:minmax(0,3fr) minmax(16rem,2fr);gap:1.2rem;align-items:start}
        @media (max-width:900px){.player{grid-template-columns:1fr}}
        video{width:100%;background:#000;border-radius:8px;max-height:70vh}
        .side{position:relative;background:#fff;border:1px solid var(--line);border-radius:8px;padding:.4rem .8rem;max-height:75vh;overflow:auto}
        ol.lines{list-style:none;margin:0;padding:0}ol.lines li{padding:.25rem .3rem;border-radius:5px;cursor:pointer}
        ol.lines li:hover{background:#f0f3f8}ol.lines li.now{background:#e4ecfb}
        .t{font-variant-numeric:tabular-nums;color:var(--accent);margin-right:.4rem;font-size:.85rem}
        .speaker{font-weight:600;margin-right:.3rem;font-size:.88rem}
        .results li{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;margin-bottom:.6rem;list-style:none}
        .results{padding:0}mark{background:#ffe58a;padding:0 .1rem;border-radius:2px}
        .links{display:flex;gap:.8rem;flex-wrap:wrap;margin:.5rem 0}
        """
}
