import Foundation
import Engine

/// Turns the model's answer into the pipeline's result: fields the media can answer exactly (timestamps,
/// cover frame, transcript, OCR text) come from measurements, the extractive sentences back up the model's
/// key points, and the pipeline's limits are enforced by counting, not by trusting the model.
struct ResultAssembler {
    let spec: PipelineSpec
    let evidence: Evidence
    let extract: [RecapOutput.ExtractSentence]

    var properties: [String: JSONValue] { spec.resultSchema["properties"]?.objectValue ?? [:] }

    func assemble(_ model: JSONValue, provenance: inout [String: String]) -> JSONValue {
        var r = model.objectValue ?? [:]
        let props = properties
        let duration = evidence.probe.durationSeconds

        if props["transcript"] != nil {
            r["transcript"] = .string(evidence.segments.map { $0.text.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
            provenance["results.transcript"] = "measured"
        }
        if props["ocr_text"] != nil {
            r["ocr_text"] = .string(evidence.scenes.map(\.ocrText).filter { !$0.isEmpty }.joined(separator: "\n"))
            provenance["results.ocr_text"] = "measured"
        }
        if props["scenes"] != nil {
            r["scenes"] = .array(evidence.scenes.map {
                .object(["start": .number(round3($0.start)), "end": .number(round3($0.end)), "description": .string($0.description)])
            })
            provenance["results.scenes"] = evidence.hasModelDescriptions ? "model" : "measured"
        }
        if props["cover_frame_time"] != nil {
            r["cover_frame_time"] = .number(round3(coverFrameTime()))
            provenance["results.cover_frame_time"] = "measured"
        }
        if props["chapters"] != nil {
            let limit = (props["chapters"]?["maxItems"]?.doubleValue).map(Int.init) ?? 12
            let maxTitle = min(TitleCheck.maxLength, (props["chapters"]?["items"]?["properties"]?["title"]?["maxLength"]?.doubleValue).map(Int.init) ?? 80)
            if let slides = SlideChapters(evidence) {
                // A talk with slides: its chapters are its slides (the model was not asked for them).
                r["chapters"] = .array(slides.chapters(limit: limit, maxTitle: maxTitle).map {
                    .object(["start": .number(round3($0.start)), "title": .string($0.title)])
                })
                provenance["results.chapters"] = "on-screen text"
            } else {
                let modelChapters = (r["chapters"]?.arrayValue ?? []).filter { !($0["title"]?.stringValue ?? "").isEmpty }
                r["chapters"] = .array(chapters(model: modelChapters, duration: duration, limit: limit))
                // Model titles keep "model"; times are always snapped to measured anchors.
                provenance["results.chapters"] = modelChapters.isEmpty ? "derived" : "model"
            }
        }
        if props["key_points"] != nil {
            var points = (r["key_points"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            let limit = Int(props["key_points"]?["maxItems"]?.doubleValue ?? 6)
            let modelWords = Set(points.flatMap { Extractive.words($0) })
            var added = false
            for s in extract where points.count < limit {
                let w = Set(Extractive.words(s.text))
                // Add a spoken sentence unless the model's points already carry most of its words.
                if w.isEmpty || Double(w.intersection(modelWords).count) / Double(w.count) < 0.6 { points.append(s.text); added = true }
            }
            r["key_points"] = .array(points.map { .string($0) })
            if added { provenance["results.key_points"] = points.count == extract.count ? "extractive" : "model+extractive" }
        }
        for key in ["tags", "keywords", "hashtags"] where props[key] != nil {
            var items = (r[key]?.arrayValue ?? []).compactMap(\.stringValue)
            let fromModel = items.count
            let limit = Int(props[key]?["maxItems"]?.doubleValue ?? 8)
            if items.count < limit {
                let text = evidence.segments.map(\.text).joined(separator: " ") + " " + evidence.scenes.map(\.ocrText).joined(separator: " ")
                for w in Extractive.keywords(text, count: limit) where items.count < limit && !items.contains(where: { $0.lowercased().contains(w) }) {
                    items.append(w)
                }
            }
            // Say who chose them: the model, the keyword pass, or both (a small-context model is not asked).
            if items.count > fromModel, provenance["results.\(key)"] != "measured" {
                provenance["results.\(key)"] = fromModel == 0 ? "extractive" : "model+extractive"
            }
            if key == "hashtags" { items = Self.hashtags(items) }
            var seen = Set<String>()
            r[key] = .array(items.filter { seen.insert($0.lowercased()).inserted }.map { .string($0) })
        }
        if let schema = props["posts"] {
            let derived = derivedPosts(r, schema: schema) ?? []
            // One post per platform. The model's stand (the first for a platform, its hashtags written as hashtags);
            // a platform it left out, or all of them when its posts were lost (a small model loops to the token
            // cap), gets a post from the captions that stood, within the platform's limit (applied below).
            var seen = Set<String>()
            var posts: [JSONValue] = (r["posts"]?.arrayValue ?? []).compactMap { p in
                guard var o = p.objectValue, let platform = o["platform"]?.stringValue, seen.insert(platform).inserted,
                      !(o["caption"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
                if let tags = o["hashtags"]?.arrayValue { o["hashtags"] = .array(Self.hashtags(tags.compactMap(\.stringValue)).map { .string($0) }) }
                return .object(o)
            }
            let fromModel = posts.count
            posts += derived.filter { seen.insert($0["platform"]?.stringValue ?? "").inserted }
            r["posts"] = .array(posts)
            if posts.count > fromModel {
                provenance["results.posts"] = fromModel == 0 ? "derived from the captions" : "model+derived from the captions"
            }
        }
        var result = JSONValue.object(r)
        for limit in spec.limits { result = Limits.apply(limit, to: result) }
        return result
    }

    /// Words as hashtags: "#" and the letters, digits and underscores, accents dropped ("Kestrel Harbour Museum"
    /// → "#KestrelHarbourMuseum", "Café" → "#Cafe"), none without a letter, no repeats.
    static func hashtags(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.map { "#" + $0.folding(options: .diacriticInsensitive, locale: nil).filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }
            .filter { $0.contains(where: \.isLetter) && seen.insert($0.lowercased()).inserted }
    }

    func derivedPosts(_ r: [String: JSONValue], schema: JSONValue) -> [JSONValue]? {
        let platforms = schema["items"]?["properties"]?["platform"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let short = r["short_caption"]?.stringValue ?? r["title"]?.stringValue
        let long = r["long_caption"]?.stringValue ?? r["paragraph"]?.stringValue ?? short
        guard let short, let long, !platforms.isEmpty else { return nil }
        let tags = (r["hashtags"]?.arrayValue ?? []).prefix(5)
        return platforms.map { p in
            .object(["platform": .string(p), "caption": .string(["x", "youtube"].contains(p) ? short : long), "hashtags": .array(Array(tags))])
        }
    }

    /// The frame most likely to read well as a cover: in focus, mid-brightness, with a title on it if any,
    /// away from the very start and end (fades, black frames). No face detector runs offline: faces do not count.
    func coverFrameTime() -> Double {
        let d = max(evidence.probe.durationSeconds, 0.001)
        guard !evidence.scenes.isEmpty else { return min(d / 3, max(0, d - 0.1)) }
        return evidence.scenes.max { score($0, d) < score($1, d) }!.frameTime
    }

    func score(_ s: RecapOutput.Scene, _ d: Double) -> Double {
        let b = s.facts?.brightness ?? 0.5
        let position = s.frameTime / d
        // Sharpness saturates: past moderate detail, crisper is not a better cover (noise also scores high).
        let sharp = min(1, (s.facts?.sharpness ?? 0.05) / 0.05)
        return (1 - abs(b - 0.5) * 2) + sharp + (s.ocrText.isEmpty ? 0 : 0.5) - (position < 0.05 || position > 0.95 ? 0.5 : 0)
    }

    /// Chapters always carry real times: the model's titles if it gave some, placed at scene starts or
    /// transcript times within the media; otherwise one chapter per scene titled by what was said in it.
    func chapters(model: [JSONValue], duration: Double, limit: Int) -> [JSONValue] {
        let anchors = (evidence.scenes.map(\.start) + evidence.segments.map(\.start)).filter { $0 >= 0 && $0 <= duration }.sorted()
        var out: [(Double, String)] = []
        for c in model {
            guard let title = c["title"]?.stringValue, !title.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let t = min(max(c["start"]?.doubleValue ?? 0, 0), duration)
            let snapped = anchors.min { abs($0 - t) < abs($1 - t) } ?? t
            out.append((snapped, title))
        }
        if out.isEmpty {
            // More scenes than chapters allowed: neighbouring scenes are grouped into `limit` even runs, each
            // titled by its on-screen heading or the first words said in it.
            // At most one chapter per 10 s (YouTube's shortest chapter): a one-minute clip is not a chapter per shot.
            let scenes = evidence.scenes
            let groups = max(1, min(limit, scenes.count, Int(duration / 10)))
            for g in 0..<groups where !scenes.isEmpty {
                let a = g * scenes.count / groups, b = (g + 1) * scenes.count / groups
                let start = scenes[a].start, end = scenes[b - 1].end
                let heading = scenes[a..<b].lazy.compactMap { $0.ocrText.split(separator: "\n").first.map(String.init) }
                    .first { Extractive.words($0).count >= 2 }
                let said = evidence.segments.filter { $0.start >= start && $0.start < end }.map(\.text).joined(separator: " ")
                let words = said.split(separator: " ").prefix(8).joined(separator: " ")
                out.append((start, heading.map { $0 == $0.uppercased() ? Summarizer.titleCase($0) : $0 } ?? (words.isEmpty ? "Part \(g + 1)" : words)))
            }
        }
        var seen = Set<Int>()
        return out.sorted { $0.0 < $1.0 }.filter { seen.insert(Int($0.0 * 1000)).inserted }.prefix(limit)
            .map { .object(["start": .number(round3($0.0)), "title": .string($0.1)]) }
    }
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

/// Limits from a pipeline's `limits:` list. Paths are dotted, `[]` means every element and
/// `[key=value]` only the elements whose `key` equals `value`: `posts[platform=x].caption`.
enum Limits {
    static func apply(_ limit: PipelineSpec.Limit, to value: JSONValue) -> JSONValue {
        let parts = limit.path.split(separator: ".").map(String.init)
        return apply(parts[...], limit, value)
    }

    private static func apply(_ path: ArraySlice<String>, _ limit: PipelineSpec.Limit, _ value: JSONValue) -> JSONValue {
        guard let head = path.first else { return clamp(value, limit) }
        var key = head, filter: (String, String)? = nil, each = false
        if let open = head.firstIndex(of: "["), head.hasSuffix("]") {
            key = String(head[..<open])
            let inner = head[head.index(after: open)..<head.index(before: head.endIndex)]
            each = true
            if let eq = inner.firstIndex(of: "=") { filter = (String(inner[..<eq]), String(inner[inner.index(after: eq)...])) }
        }
        guard var obj = value.objectValue, let child = obj[key] else { return value }
        if each, case .array(let items) = child {
            obj[key] = .array(items.map { item in
                if let (k, v) = filter, item[k]?.stringValue != v { return item }
                return apply(path.dropFirst(), limit, item)
            })
        } else if each {
            return value
        } else {
            obj[key] = apply(path.dropFirst(), limit, child)
        }
        return .object(obj)
    }

    static func clamp(_ value: JSONValue, _ limit: PipelineSpec.Limit) -> JSONValue {
        switch value {
        case .string(let s): return .string(limit.maxChars.map { truncate(s, to: $0) } ?? s)
        case .array(let a): return .array(limit.maxItems.map { Array(a.prefix($0)) } ?? a)
        default: return value
        }
    }

    /// Cuts at a word boundary and marks the cut with an ellipsis, never exceeding `max` characters.
    static func truncate(_ s: String, to max: Int) -> String {
        guard s.count > max else { return s }
        guard max > 1 else { return String(s.prefix(max)) }
        // Whole sentences read better than a cut one: end at the last full stop that keeps at least half.
        let head = s.prefix(max)
        if let stop = head.range(of: ". ", options: .backwards), head.distance(from: head.startIndex, to: stop.lowerBound) >= max / 2 {
            return String(head[..<stop.lowerBound]) + "."
        }
        let cut = s.prefix(max - 1)
        let atSpace = cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut
        let body = (atSpace.count >= max / 2 ? atSpace : cut).trimmingCharacters(in: CharacterSet(charactersIn: " ,;:-"))
        return body + "…"
    }
}

/// Builds values that satisfy a schema when the model cannot be asked (no evidence) or answered badly.
enum SchemaFiller {
    static func fill(_ schema: JSONValue, text: String) -> JSONValue {
        if let options = schema["enum"]?.arrayValue, let first = options.first { return first }
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first?.stringValue ?? "string"
        switch type {
        case "object":
            var o: [String: JSONValue] = [:]
            let props = schema["properties"]?.objectValue ?? [:]
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                o[key] = fill(props[key] ?? .object([:]), text: text)
            }
            return .object(o)
        case "array":
            let min = Int(schema["minItems"]?.doubleValue ?? 0)
            return .array((0..<min).map { _ in fill(schema["items"] ?? .object([:]), text: text) })
        case "number", "integer": return .number(schema["minimum"]?.doubleValue ?? 0)
        case "boolean": return .bool(false)
        case "null": return .null
        default:
            return .string(schema["maxLength"]?.doubleValue.map { Limits.truncate(text, to: Int($0)) } ?? text)
        }
    }

    /// Keeps what is valid in `value` and fills or trims the rest to the schema.
    static func repair(_ value: JSONValue, schema: JSONValue, text: String) -> JSONValue {
        let validator = JSONSchemaValidator(schema: schema)
        if validator.isValid(value) { return value }
        let type = schema["type"]?.stringValue
        switch (type, value) {
        case ("object", .object(var o)):
            let props = schema["properties"]?.objectValue ?? [:]
            if case .bool(false) = schema["additionalProperties"] ?? .null { o = o.filter { props[$0.key] != nil } }
            for (k, v) in o { if let p = props[k] { o[k] = repair(v, schema: p, text: text) } }
            for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where o[key] == nil {
                o[key] = fill(props[key] ?? .object([:]), text: text)
            }
            return .object(o)
        case ("array", .array(let a)):
            let item = schema["items"] ?? .object([:])
            var items = a.map { repair($0, schema: item, text: text) }.filter { JSONSchemaValidator(schema: item).isValid($0) }
            if let max = schema["maxItems"]?.doubleValue { items = Array(items.prefix(Int(max))) }
            while Double(items.count) < (schema["minItems"]?.doubleValue ?? 0) { items.append(fill(item, text: text)) }
            return .array(items)
        case ("string", .string(let s)):
            let t = schema["maxLength"]?.doubleValue.map { Limits.truncate(s, to: Int($0)) } ?? s
            return validator.isValid(.string(t)) ? .string(t) : fill(schema, text: text)
        default:
            return fill(schema, text: text)
        }
    }
}
