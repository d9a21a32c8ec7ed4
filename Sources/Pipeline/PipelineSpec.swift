import Foundation
import Speech
import Engine
import Yams

/// A pipeline, as written in a YAML file under `pipelines/` or by a user.
/// Pipelines are data: stages, frame strategy, audio settings, prompts, the result schema, outputs.
public struct PipelineSpec: Sendable, Equatable {
    public enum Stage: String, Sendable, CaseIterable, Codable {
        case probe, frames, audio, transcribe, visual, summarize, write
    }

    public enum FrameStrategy: String, Sendable, CaseIterable, Codable {
        case interval, scenes, keyframes, count
    }

    public struct Frames: Sendable, Equatable {
        public var strategy: FrameStrategy = .scenes
        /// Seconds between frames for `interval`; ignored otherwise.
        public var interval: Double = 10
        /// Upper bound on frames per file, whatever the strategy finds.
        public var maxFrames: Int = 24
        public var maxSide: Int = 768
        /// Scene-change threshold (0...1) and minimum scene length for `scenes`.
        public var sceneThreshold: Double = 0.08
        public var minSceneSeconds: Double = 1.0
    }

    public struct Audio: Sendable, Equatable {
        public var enabled = true
        public var clipSeconds: Double = 30
        /// Whisper model name from the catalog (`base`, `tiny.en`).
        public var model = "base"
        /// `auto` lets whisper detect the language.
        public var language = "auto"
    }

    public struct Prompt: Sendable, Equatable {
        public var system: String
        public var template: String
        public var maxTokens: Int
    }

    public enum OutputFile: String, Sendable, CaseIterable, Codable {
        case json, srt, vtt, contactSheet = "contact_sheet"
    }

    /// Post-generation limits the pipeline enforces itself: a small model does not count characters.
    public struct Limit: Sendable, Equatable {
        /// Dotted path into the result, `[]` for every element: `posts[].short_caption`.
        public var path: String
        public var maxChars: Int?
        public var maxItems: Int?
    }

    public var name: String
    public var version: Int
    public var description: String
    public var stages: [Stage]
    public var frames: Frames
    public var audio: Audio
    /// `map` summarizes one chunk; `reduce` (required) makes the final result.
    public var mapPrompt: Prompt?
    public var reducePrompt: Prompt
    public var resultSchema: JSONValue
    public var limits: [Limit]
    public var files: [OutputFile]
    /// How subtitles are laid out (`output.subtitles`: max_line_chars, max_lines, max_cps, min_duration,
    /// max_duration, min_gap); the Netflix/BBC conventions unless the spec says otherwise.
    public var subtitles: SubtitleRules = SubtitleRules()
    /// What goes into the search index: transcript, scenes, ocr, summary.
    public var index: [String]
    /// Where the spec came from, for messages.
    public var source: String
    /// The YAML document as JSON with sorted keys and scalars as written, `description` left out: what the
    /// job key hashes (`JobKey`). Comments, key order and quoting do not change it; any prompt, schema, limit or
    /// sampling setting does.
    public var canonicalContent: String

    public func has(_ stage: Stage) -> Bool { stages.contains(stage) }

    /// The names a prompt template may use, in `{name}` form.
    public static let templateInputs: Set<String> = [
        "transcript", "ocr", "frame_facts", "metadata", "extract", "chunk_summaries", "scene_list", "fields",
    ]
}

/// A broken pipeline file: says which file, where, and what is wrong.
public struct PipelineSpecError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public var description: String {
        var where_ = file
        if let line { where_ += ":\(line)" }
        if let column { where_ += ":\(column)" }
        return "\(where_): \(message)"
    }
}

extension PipelineSpec {
    /// Loads a pipeline from a YAML file.
    public static func load(contentsOf url: URL) throws -> PipelineSpec {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw PipelineSpecError(file: url.path, line: nil, column: nil,
                                    message: "cannot read the pipeline file (\(error.localizedDescription)); check the path")
        }
        return try parse(yaml: text, source: url.path)
    }

    /// Parses pipeline YAML. Every error names the file, the line and column, and the field.
    public static func parse(yaml: String, source: String) throws -> PipelineSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw PipelineSpecError(file: source, line: 1, column: 1, message: "the file is empty; a pipeline needs at least name, version, prompts.reduce and output.schema")
            }
            root = node
        } catch let e as PipelineSpecError {
            throw e
        } catch let e as YamlError {
            throw Self.yamlError(e, source: source)
        }
        let r = SpecReader(source: source)
        let top = try r.mapping(root, "the top level")
        try r.onlyKeys(top, ["name", "version", "description", "stages", "frames", "audio", "prompts", "output", "limits", "index"], at: root, "the top level")

        let name = try r.string(r.required(top, "name", in: root), "name")
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*$"#, options: .regularExpression) != nil else {
            throw r.error(top["name"]!, "name: \"\(name)\" must be letters, digits, '.', '_' or '-'")
        }
        let version = try r.int(r.required(top, "version", in: root), "version", min: 1)
        let description = try top["description"].map { try r.string($0, "description") } ?? ""

        var stages = Stage.allCases
        if let s = top["stages"] {
            stages = try r.sequence(s, "stages").map { node in
                let v = try r.string(node, "stages[]")
                guard let stage = Stage(rawValue: v) else {
                    throw r.error(node, "stages: \"\(v)\" is not a stage; use \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return stage
            }
            for required in [Stage.probe, .write] where !stages.contains(required) {
                throw r.error(s, "stages: \"\(required.rawValue)\" is required")
            }
            // Stages run in their natural order whatever order the file lists them in.
            stages = Stage.allCases.filter(stages.contains)
        }

        var frames = Frames()
        if let f = top["frames"] {
            let m = try r.mapping(f, "frames")
            try r.onlyKeys(m, ["strategy", "interval", "max_frames", "max_side", "scene_threshold", "min_scene_seconds"], at: f, "frames")
            if let v = m["strategy"] {
                let s = try r.string(v, "frames.strategy")
                guard let strategy = FrameStrategy(rawValue: s) else {
                    throw r.error(v, "frames.strategy: \"\(s)\" is not one of \(FrameStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                frames.strategy = strategy
            }
            if let v = m["interval"] { frames.interval = try r.double(v, "frames.interval", min: 0.1) }
            if let v = m["max_frames"] { frames.maxFrames = try r.int(v, "frames.max_frames", min: 1, max: 500) }
            if let v = m["max_side"] { frames.maxSide = try r.int(v, "frames.max_side", min: 64, max: 4096) }
            if let v = m["scene_threshold"] { frames.sceneThreshold = try r.double(v, "frames.scene_threshold", min: 0, max: 1) }
            if let v = m["min_scene_seconds"] { frames.minSceneSeconds = try r.double(v, "frames.min_scene_seconds", min: 0) }
        }

        var audio = Audio()
        if let a = top["audio"] {
            let m = try r.mapping(a, "audio")
            try r.onlyKeys(m, ["enabled", "clip_seconds", "model", "language"], at: a, "audio")
            if let v = m["enabled"] { audio.enabled = try r.bool(v, "audio.enabled") }
            if let v = m["clip_seconds"] { audio.clipSeconds = try r.double(v, "audio.clip_seconds", min: 1, max: 30) }
            if let v = m["model"] { audio.model = try r.string(v, "audio.model") }
            if let v = m["language"] { audio.language = try r.string(v, "audio.language") }
        }

        let promptsNode = try r.required(top, "prompts", in: root)
        let prompts = try r.mapping(promptsNode, "prompts")
        try r.onlyKeys(prompts, ["map", "reduce"], at: promptsNode, "prompts")
        func prompt(_ key: String, defaultTokens: Int) throws -> Prompt? {
            guard let n = prompts[key] else { return nil }
            let m = try r.mapping(n, "prompts.\(key)")
            try r.onlyKeys(m, ["system", "template", "max_tokens"], at: n, "prompts.\(key)")
            let tNode = try r.required(m, "template", in: n, path: "prompts.\(key)")
            let template = try r.string(tNode, "prompts.\(key).template")
            for name in PromptTemplate.placeholders(in: template) where !templateInputs.contains(name) {
                throw r.error(tNode, "prompts.\(key).template: unknown input {\(name)}; the inputs are \(templateInputs.sorted().map { "{\($0)}" }.joined(separator: ", "))")
            }
            return Prompt(
                system: try m["system"].map { try r.string($0, "prompts.\(key).system") } ?? "",
                template: template,
                maxTokens: try m["max_tokens"].map { try r.int($0, "prompts.\(key).max_tokens", min: 16, max: 8192) } ?? defaultTokens)
        }
        guard let reduce = try prompt("reduce", defaultTokens: 512) else {
            throw r.error(promptsNode, "prompts: missing \"reduce\", the prompt that makes the final result")
        }
        let map = try prompt("map", defaultTokens: 256)

        let outNode = try r.required(top, "output", in: root)
        let out = try r.mapping(outNode, "output")
        try r.onlyKeys(out, ["schema", "files", "subtitles"], at: outNode, "output")
        let schemaNode = try r.required(out, "schema", in: outNode, path: "output")
        let schema = try r.json(schemaNode)
        guard schema["type"]?.stringValue == "object", schema["properties"]?.objectValue != nil else {
            throw r.error(schemaNode, "output.schema: the result schema must be an object schema with \"type: object\" and \"properties\"")
        }
        var files = OutputFile.allCases
        if let f = out["files"] {
            files = try r.sequence(f, "output.files").map { node in
                let v = try r.string(node, "output.files[]")
                guard let file = OutputFile(rawValue: v) else {
                    throw r.error(node, "output.files: \"\(v)\" is not one of \(OutputFile.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return file
            }
            if !files.contains(.json) { throw r.error(f, "output.files: \"json\" is required (it is the result)") }
        }

        var subtitles = SubtitleRules()
        if let node = out["subtitles"] {
            let m = try r.mapping(node, "output.subtitles")
            let keys = ["max_line_chars", "max_lines", "max_cps", "min_duration", "max_duration", "min_gap"]
            try r.onlyKeys(m, keys, at: node, "output.subtitles")
            if let v = m["max_line_chars"] { subtitles.maxLineChars = try r.int(v, "output.subtitles.max_line_chars", min: 10, max: 200) }
            if let v = m["max_lines"] { subtitles.maxLines = try r.int(v, "output.subtitles.max_lines", min: 1, max: 4) }
            if let v = m["max_cps"] { subtitles.maxCharsPerSecond = try r.double(v, "output.subtitles.max_cps", min: 5, max: 60) }
            if let v = m["min_duration"] { subtitles.minDuration = try r.double(v, "output.subtitles.min_duration", min: 0.1, max: 10) }
            if let v = m["max_duration"] { subtitles.maxDuration = try r.double(v, "output.subtitles.max_duration", min: 1, max: 30) }
            if let v = m["min_gap"] { subtitles.minGap = try r.double(v, "output.subtitles.min_gap", min: 0, max: 2) }
            if subtitles.minDuration > subtitles.maxDuration {
                throw r.error(node, "output.subtitles: min_duration is longer than max_duration")
            }
        }

        var limits: [Limit] = []
        if let l = top["limits"] {
            limits = try r.sequence(l, "limits").map { node in
                let m = try r.mapping(node, "limits[]")
                try r.onlyKeys(m, ["path", "max_chars", "max_items"], at: node, "limits[]")
                let path = try r.string(r.required(m, "path", in: node, path: "limits[]"), "limits[].path")
                return Limit(path: path,
                             maxChars: try m["max_chars"].map { try r.int($0, "limits[].max_chars", min: 1) },
                             maxItems: try m["max_items"].map { try r.int($0, "limits[].max_items", min: 0) })
            }
        }
        let indexFields = ["transcript", "scenes", "ocr", "summary"]
        var index = indexFields
        if let i = top["index"] {
            index = try r.sequence(i, "index").map { node in
                let v = try r.string(node, "index[]")
                guard indexFields.contains(v) else { throw r.error(node, "index: \"\(v)\" is not one of \(indexFields.joined(separator: ", "))") }
                return v
            }
        }
        var spec = PipelineSpec(name: name, version: version, description: description, stages: stages,
                                frames: frames, audio: audio, mapPrompt: map, reducePrompt: reduce,
                                resultSchema: schema, limits: limits, files: files, index: index, source: source,
                                canonicalContent: Self.canonical(root, top: true).jsonString())
        spec.subtitles = subtitles
        return spec
    }

    /// The spec with subtitle limits changed from the command line (`recap run --max-line-chars/--max-cps`).
    /// The change is part of the canonical content, so the job key changes and the subtitles are rewritten.
    public func withSubtitles(maxLineChars: Int?, maxCharsPerSecond: Double?) -> PipelineSpec {
        guard maxLineChars != nil || maxCharsPerSecond != nil else { return self }
        var copy = self
        if let maxLineChars { copy.subtitles.maxLineChars = maxLineChars }
        if let maxCharsPerSecond { copy.subtitles.maxCharsPerSecond = maxCharsPerSecond }
        copy.canonicalContent += "\nsubtitles: \(copy.subtitles.maxLineChars) chars, \(copy.subtitles.maxCharsPerSecond) cps"
        return copy
    }

    /// A YAML node as plain JSON: mappings with string keys, sequences, scalars as their text.
    static func canonical(_ node: Node, top: Bool = false) -> JSONValue {
        if let m = node.mapping {
            var o: [String: JSONValue] = [:]
            for (k, v) in m where !(top && k.string == "description") { o[k.string ?? "\(k)"] = canonical(v) }
            return .object(o)
        }
        if let seq = node.sequence { return .array(seq.map { canonical($0) }) }
        return .string(node.string ?? "")
    }

    static func yamlError(_ e: YamlError, source: String) -> PipelineSpecError {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let ctx = context.map { " (\($0.text))" } ?? ""
            return PipelineSpecError(file: source, line: mark.line, column: mark.column, message: "YAML syntax: \(problem)\(ctx)")
        default:
            return PipelineSpecError(file: source, line: nil, column: nil, message: "YAML: \(e)")
        }
    }
}

/// Reads typed values out of a composed YAML tree, turning every mismatch into an error with a position.
struct SpecReader {
    let source: String

    func error(_ node: Node, _ message: String) -> PipelineSpecError {
        PipelineSpecError(file: source, line: node.mark?.line, column: node.mark?.column, message: message)
    }

    func mapping(_ node: Node, _ what: String) throws -> [String: Node] {
        guard case .mapping(let m) = node else { throw error(node, "\(what): expected a mapping of keys to values") }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw error(k, "\(what): keys must be plain strings") }
            if out[key] != nil { throw error(k, "\(what): \"\(key)\" appears twice") }
            out[key] = v
        }
        return out
    }

    func onlyKeys(_ m: [String: Node], _ allowed: [String], at node: Node, _ what: String) throws {
        guard case .mapping(let mapping) = node else { return }
        for (k, _) in mapping {
            if let key = k.string, !allowed.contains(key) {
                throw error(k, "\(what): unknown key \"\(key)\"; expected one of \(allowed.joined(separator: ", "))")
            }
        }
    }

    func required(_ m: [String: Node], _ key: String, in node: Node, path: String? = nil) throws -> Node {
        guard let v = m[key] else {
            throw error(node, "\(path.map { "\($0): " } ?? "")missing required key \"\(key)\"")
        }
        return v
    }

    func sequence(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let s) = node else { throw error(node, "\(what): expected a list") }
        return Array(s)
    }

    func scalarText(_ node: Node) -> String? {
        if case .scalar(let s) = node { return s.string }
        return nil
    }

    func string(_ node: Node, _ what: String) throws -> String {
        guard let s = scalarText(node) else { throw error(node, "\(what): expected text") }
        return s
    }

    func int(_ node: Node, _ what: String, min: Int? = nil, max: Int? = nil) throws -> Int {
        guard let s = scalarText(node), let v = Int(s) else { throw error(node, "\(what): expected a whole number") }
        if let min, v < min { throw error(node, "\(what): \(v) is below the minimum \(min)") }
        if let max, v > max { throw error(node, "\(what): \(v) is above the maximum \(max)") }
        return v
    }

    func double(_ node: Node, _ what: String, min: Double? = nil, max: Double? = nil) throws -> Double {
        guard let s = scalarText(node), let v = Double(s), v.isFinite else { throw error(node, "\(what): expected a number") }
        if let min, v < min { throw error(node, "\(what): \(v) is below the minimum \(min)") }
        if let max, v > max { throw error(node, "\(what): \(v) is above the maximum \(max)") }
        return v
    }

    func bool(_ node: Node, _ what: String) throws -> Bool {
        guard let v = node.bool, case .scalar = node else { throw error(node, "\(what): expected true or false") }
        return v
    }

    /// A YAML subtree as JSON (for the result schema). Scalars keep YAML's typing: `150` is a number.
    func json(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let s):
            if s.style == .plain || s.style == .any {
                if s.string == "~" || s.string == "null" { return .null }
                if let b = node.bool { return .bool(b) }
                if let i = node.int { return .number(Double(i)) }
                if let d = node.float { return .number(d) }
            }
            return .string(s.string)
        case .sequence(let seq):
            return .array(try seq.map { try json($0) })
        case .mapping:
            return .object(try mapping(node, "output.schema").mapValues { try json($0) })
        case .alias:
            throw error(node, "YAML aliases are not supported in a pipeline")
        }
    }
}
