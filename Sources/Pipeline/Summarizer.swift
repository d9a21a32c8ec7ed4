import Foundation
import Engine

/// The summarize stage: grounding check, extractive pass, map-reduce over time chunks within the engine's
/// context budget, then deterministic post-processing (limits, timestamps, measured fields).
public struct Summarizer: Sendable {
    public let spec: PipelineSpec
    public let engine: any EnginePort

    public init(spec: PipelineSpec, engine: any EnginePort) { self.spec = spec; self.engine = engine }

    public struct Outcome: Sendable {
        public var results: JSONValue
        public var extract: [RecapOutput.ExtractSentence]
        public var grounding: RecapOutput.Grounding
        public var provenance: [String: String]
        public var warnings: [String]
        public var engineCalls: Int
        /// How the work was split: 1 means one request held everything.
        public var chunks: Int
        /// Set when the model answered but never usably: the results are measured and extractive only, and
        /// the job is `degraded` (its outputs are written, and the next run asks the model again).
        public var degraded: String?
    }

    /// The schema of one map step's answer.
    static let mapSchema: JSONValue = .object([
        "type": .string("object"),
        "required": .array([.string("summary"), .string("key_points")]),
        "additionalProperties": .bool(false),
        "properties": .object([
            "summary": .object(["type": .string("string"), "maxLength": .number(600)]),
            "key_points": .object(["type": .string("array"), "maxItems": .number(5),
                                   "items": .object(["type": .string("string"), "maxLength": .number(200)])]),
        ]),
    ])

    /// Result fields the pipeline fills from measurements; the model is not asked for them.
    static let measuredKeys: Set<String> = ["transcript", "ocr_text", "scenes", "cover_frame_time"]

    /// Result lists the pipeline can build without a model (key points and tags from the extractive pass,
    /// chapters from the scene cuts). A small-context engine is not asked for them.
    static let derivableKeys: Set<String> = ["key_points", "tags", "keywords", "hashtags", "chapters"]
    /// Below this context the engine is a small local model: SmolLM2-135M, asked for the full summary
    /// schema, fills every list to its limit with repeats and runs out of tokens before the title (measured:
    /// 320 tokens cut, 1,024 tokens took 67 s for a one-minute talk). Asked for the text fields alone it
    /// answers in one short call.
    static let smallContext = 8192

    /// The result schema minus the measured fields (and, for a small engine, the derivable lists): what the
    /// engine is asked to produce.
    var modelSchema: JSONValue {
        guard case .object(var s) = spec.resultSchema else { return spec.resultSchema }
        var skip = Self.measuredKeys
        if engine.description.contextTokens < Self.smallContext { skip.formUnion(Self.derivableKeys) }
        if case .object(let props) = s["properties"] ?? .null { s["properties"] = .object(props.filter { !skip.contains($0.key) }) }
        if case .array(let req) = s["required"] ?? .null { s["required"] = .array(req.filter { !skip.contains($0.stringValue ?? "") }) }
        return .object(s)
    }

    static func removing(_ key: String, from schema: JSONValue) -> JSONValue {
        guard case .object(var s) = schema else { return schema }
        if case .object(var props) = s["properties"] ?? .null { props[key] = nil; s["properties"] = .object(props) }
        if case .array(let req) = s["required"] ?? .null { s["required"] = .array(req.filter { $0.stringValue != key }) }
        return .object(s)
    }

    static let defaultMap = PipelineSpec.Prompt(
        system: "You summarize one part of a longer video from its evidence. Use only facts in the evidence.",
        template: "Evidence for one part of the video ({metadata}).\nTranscript:\n{transcript}\nOn-screen text (OCR):\n{ocr}\nFrame facts:\n{frame_facts}\nSummarize this part in two sentences and list its key points.",
        maxTokens: 200)

    public func run(_ heard: Evidence, counter: EngineCallCounter) async throws -> Outcome {
        var warnings: [String] = []
        // Names the transcript misheard are spelled as the slides show them (the transcript itself stays as heard).
        let names = ScreenNames(heard)
        let evidence = names.apply(heard)
        let sentences = Extractive.sentences(evidence.segments)
        let central = Extractive.central(sentences, count: min(5, max(1, sentences.count / 4 + 1)))
        let extract = central.map { RecapOutput.ExtractSentence(text: $0.0.text, start: $0.0.start, score: ($0.1 * 1000).rounded() / 1000) }
        let grounding = Self.grounding(evidence)

        var model: JSONValue
        var chunks = 1
        var degraded: String?
        let answers = AnswerTally()
        var provenance: [String: String] = [:]
        if !evidence.hasSpeech && !evidence.hasOnScreenText && !evidence.hasModelDescriptions {
            // Nothing a language model could summarize truthfully: describe what was measured instead.
            model = MeasuredSummary(evidence: evidence).fill(spec.resultSchema)
            for k in spec.resultSchema["properties"]?.objectValue?.keys ?? [:].keys { provenance["results.\(k)"] = "measured" }
        } else {
            // A talk with slides is chaptered by its slides (SlideChapters): the model is not asked for chapters.
            let modelSchema = SlideChapters(evidence) == nil ? modelSchema : Self.removing("chapters", from: modelSchema)
            let budget = engine.description.contextTokens - answerTokens(spec.reducePrompt, schema: modelSchema) - 48
            // The whole transcript is in this request: its central sentences again would only cost tokens.
            let allInputs = evidence.inputs(extract: []).merging(["fields": fieldList(modelSchema)]) { $1 }
            let single = call(spec.reducePrompt, inputs: allInputs, schema: modelSchema, purpose: "summarize")
            var final = single
            if await engine.estimateTokens(single) <= budget {
                model = try await generate(single, counter: counter, answers: answers, warnings: &warnings)
            } else {
                let (summaries, n) = try await mapChunks(evidence, counter: counter, answers: answers, warnings: &warnings)
                chunks = n
                var text = summaries
                // Reduce until the chunk summaries fit one request (hierarchical for very long media).
                while true {
                    let inputs = evidence.inputs(lines: [], extract: central.map(\.0), chunkSummaries: text.map(\.text).joined(separator: "\n"))
                        .merging(["transcript": "(summarized per part below)", "fields": fieldList(modelSchema)]) { $1 }
                    let reduce = call(spec.reducePrompt, inputs: inputs, schema: modelSchema, purpose: "reduce")
                    if await engine.estimateTokens(reduce) <= budget || text.count <= 1 {
                        model = try await generate(reduce, counter: counter, answers: answers, warnings: &warnings)
                        final = reduce
                        break
                    }
                    text = try await combine(text, evidence: evidence, counter: counter, answers: answers, warnings: &warnings)
                }
            }
            // Not one valid answer: the server or model is broken for this schema. The outputs are still made
            // from what was measured and said (a person gets something now), but the job is marked degraded,
            // never passed off as done, so the next run asks again.
            if answers.valid == 0, let reason = answers.firstInvalid {
                degraded = "no usable answer from the engine in \(answers.invalid) request\(answers.invalid == 1 ? "" : "s") (\(reason)); the summary is measured and extractive only, and the next run asks again. Check the server and model with `recap engine check`."
            }
            let gate = GroundingGate(evidence)
            var (grounded, cuts) = review(model, gate: gate, evidence: evidence)
            // Fields lost whole are asked for once more, naming what was wrong; the rest of the answer stands.
            let lost = cuts.filter(\.whole)
            if !lost.isEmpty, let again = await reask(final, fields: lost, counter: counter, answers: answers, warnings: &warnings) {
                let (second, secondCuts) = review(again, gate: gate, evidence: evidence)
                var merged = grounded.objectValue ?? [:]
                for (k, v) in second.objectValue ?? [:] where merged[k] == nil && lost.contains(where: { $0.field == k }) {
                    merged[k] = v
                    cuts.removeAll { $0.field == k }
                    cuts += secondCuts.filter { $0.field == k }
                    provenance["results.\(k)"] = "model (asked again)"
                }
                grounded = .object(merged)
            }
            for c in cuts {
                warnings.append("summarize: \(c.whole ? "dropped" : "trimmed") the model's \(c.field): \(c.claims.prefix(2).joined(separator: "; "))")
            }
            var fields = grounded.objectValue ?? [:]
            for k in fields.keys where provenance["results.\(k)"] == nil {
                let cut = cuts.first { $0.field == k }
                provenance["results.\(k)"] = cut.map { "model (\($0.claims.count) unsupported part\($0.claims.count == 1 ? "" : "s") cut)" } ?? "model"
            }
            // What the model left out or got wrong: say what was said instead (extractive), never the grounding note.
            for (k, v) in Self.extractiveFallback(modelSchema, extract: extract, evidence: evidence).objectValue ?? [:] where fields[k] == nil {
                fields[k] = v
                provenance["results.\(k)"] = k == "title" && Self.onScreenTitle(evidence) != nil ? "on-screen text" : "extractive"
            }
            // Nothing was said or shown to fall back on (a file only a seeing model described, and its answer did
            // not stand): the text fields say what was measured, never the schema repair's filler sentence.
            let measured = MeasuredSummary(evidence: evidence).fill(modelSchema).objectValue ?? [:]
            for (k, prop) in modelSchema["properties"]?.objectValue ?? [:]
            where fields[k] == nil && prop["type"]?.stringValue == "string" && prop["enum"] == nil {
                guard let v = measured[k] else { continue }
                fields[k] = v
                provenance["results.\(k)"] = "measured"
            }
            if let t = fields["title"]?.stringValue, TitleCheck.problem(t, fileName: evidence.fileName) != nil {
                fields["title"] = .string(MeasuredSummary(evidence: evidence).title)
                provenance["results.title"] = "measured"
            }
            model = .object(fields)
        }
        if let swaps = names.provenance { provenance["names_from_screen"] = swaps }
        var results = ResultAssembler(spec: spec, evidence: evidence, extract: extract).assemble(model, provenance: &provenance)
        let errors = JSONSchemaValidator(schema: spec.resultSchema).violations(of: results).map(\.description)
        if !errors.isEmpty {
            warnings.append("the model's result needed repair to fit the pipeline schema: \(errors.prefix(3).joined(separator: "; "))")
            results = SchemaFiller.repair(results, schema: spec.resultSchema, text: MeasuredSummary(evidence: evidence).oneLine)
        }
        return Outcome(results: results, extract: extract, grounding: grounding, provenance: provenance,
                       warnings: warnings, engineCalls: counter.value, chunks: chunks, degraded: degraded)
    }

    /// Text fields filled from the transcript's central sentences (or on-screen text) when the model failed.
    static func extractiveFallback(_ schema: JSONValue, extract: [RecapOutput.ExtractSentence], evidence: Evidence) -> JSONValue {
        var sentences = extract.map(\.text)
        if sentences.isEmpty {
            sentences = evidence.scenes.map(\.ocrText).filter { !$0.isEmpty }
        }
        guard !sentences.isEmpty else { return .object([:]) }
        let onScreenTitle = Self.onScreenTitle(evidence)
        var out: [String: JSONValue] = [:]
        for (key, prop) in schema["properties"]?.objectValue ?? [:] where prop["type"]?.stringValue == "string" {
            let max = Int(prop["maxLength"]?.doubleValue ?? 10_000)
            var text = ["title", "one_line", "short_caption", "alt_text"].contains(key) ? sentences[0] : sentences.joined(separator: " ")
            // A title shown on screen (a title card, a slide heading) names the video better than a sentence.
            if key == "title" {
                // A title shown on screen names the video best; else the shortest central sentence that reads at a glance.
                text = onScreenTitle ?? sentences.filter { $0.count <= TitleCheck.maxLength }.min { $0.count < $1.count } ?? sentences[0]
                out[key] = .string(Limits.truncate(text.trimmingCharacters(in: CharacterSet(charactersIn: " .")), to: min(max, TitleCheck.maxLength)))
                continue
            }
            out[key] = .string(Limits.truncate(text, to: max))
        }
        return .object(out)
    }

    /// The first line of on-screen text that reads as a title (a title card, a slide heading), in the case a
    /// person would write it: "THE LIGHTHOUSE OF ALEXANDRIA" → "The Lighthouse of Alexandria".
    static func onScreenTitle(_ e: Evidence) -> String? {
        for scene in e.scenes {
            for line in scene.ocrText.split(separator: "\n") {
                let t = line.trimmingCharacters(in: .whitespaces)
                guard Extractive.words(t).count >= 2, t.filter(\.isLetter).count >= 6, TitleCheck.problem(t, fileName: e.fileName) == nil else { continue }
                return t == t.uppercased() ? titleCase(t) : t
            }
        }
        return nil
    }

    static func titleCase(_ t: String) -> String {
        let small: Set<String> = ["a", "an", "the", "of", "and", "or", "in", "on", "at", "to", "for", "by", "with"]
        return t.lowercased().split(separator: " ").enumerated().map { i, w in
            i > 0 && small.contains(String(w)) ? String(w) : w.prefix(1).uppercased() + w.dropFirst()
        }.joined(separator: " ")
    }

    /// The gate, plus the title rules: a title that is an apology, a timestamp or junk is cut like a claim.
    func review(_ answer: JSONValue, gate: GroundingGate, evidence: Evidence) -> (JSONValue, [GroundingGate.Cut]) {
        var (kept, cuts) = gate.filter(answer, schema: modelSchema)
        if var o = kept.objectValue, let t = o["title"]?.stringValue, let p = TitleCheck.problem(t, fileName: evidence.fileName) {
            o["title"] = nil
            kept = .object(o)
            cuts.append(.init(field: "title", claims: ["\"\(t)\" (\(p))"], whole: true))
        }
        return (kept, cuts)
    }

    /// One more request for the fields the gate removed whole, naming what was unsupported. Nil when the
    /// engine gives nothing usable.
    func reask(_ first: EngineCall, fields: [GroundingGate.Cut], counter: EngineCallCounter, answers: AnswerTally,
               warnings: inout [String]) async -> JSONValue? {
        guard case .object(var s) = modelSchema, let props = s["properties"]?.objectValue else { return nil }
        let names = fields.map(\.field).filter { props[$0] != nil }
        guard !names.isEmpty else { return nil }
        s["properties"] = .object(props.filter { names.contains($0.key) })
        s["required"] = .array(names.map { .string($0) })
        let schema = JSONValue.object(s)
        let problems = fields.flatMap(\.claims).prefix(6).map { "- \($0)" }.joined(separator: "\n")
        var again = first
        again.purpose = "summarize again"
        again.schema = schema
        again.maxTokens = answerTokens(spec.reducePrompt, schema: schema)
        again.parts.append(.text("""

            An earlier answer was rejected because these statements are not in the evidence:
            \(problems)
            Write \(fieldList(schema)) again. Use only names, numbers and facts that appear in the evidence above.
            """))
        return try? await generate(again, counter: counter, answers: answers, warnings: &warnings)
    }

    /// The fields a schema asks for, as a prompt says them: "a title (at most 100 characters), a one_line …".
    func fieldList(_ schema: JSONValue) -> String {
        let props = schema["properties"]?.objectValue ?? [:]
        let order = (schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []) + props.keys.sorted()
        var seen = Set<String>()
        return order.filter { props[$0] != nil && seen.insert($0).inserted }.map { key in
            let p = props[key]!
            var limit = ""
            if let n = p["maxLength"]?.doubleValue { limit = " (at most \(Int(n)) characters)" }
            if let n = p["maxItems"]?.doubleValue { limit = " (at most \(Int(n)))" }
            return "\(key)\(limit)"
        }.joined(separator: ", ")
    }

    static func grounding(_ e: Evidence) -> RecapOutput.Grounding {
        let speech = e.hasSpeech, text = e.hasOnScreenText
        let note: String
        switch (speech, text) {
        case (true, true): note = "Summary grounded in the transcript and on-screen text, with measured frame facts."
        case (true, false): note = "Summary grounded in the transcript; no on-screen text was found."
        case (false, true): note = "No speech was detected; the summary rests on on-screen text and measured frame facts."
        case (false, false):
            note = e.hasModelDescriptions
                ? "No speech and no on-screen text were found; the summary rests on the model's frame descriptions."
                : "No speech and no on-screen text were found; title and summary describe what was measured (length, picture, motion, audio), and no story was invented."
        }
        return .init(hasSpeech: speech, hasOnScreenText: text, note: note)
    }

    func call(_ p: PipelineSpec.Prompt, inputs: [String: String], schema: JSONValue, purpose: String) -> EngineCall {
        EngineCall(purpose: purpose, system: p.system, parts: [.text(PromptTemplate.render(p.template, inputs: inputs))],
                   schema: schema, maxTokens: answerTokens(p, schema: schema))
    }

    /// Room for the answer: the prompt's `max_tokens`, raised to what the schema allows at most (capped at a
    /// quarter of the context). An answer cut off mid-object is lost; a small model that fills every field
    /// to its limit needs that room, and a model that stops early costs nothing for it.
    func answerTokens(_ p: PipelineSpec.Prompt, schema: JSONValue) -> Int {
        max(p.maxTokens, min(Self.tokenBound(schema), engine.description.contextTokens / 4))
    }

    /// An upper estimate of the tokens of the longest JSON a schema admits (about 3 characters per token for
    /// bounded strings; unbounded strings and arrays get a modest default).
    static func tokenBound(_ schema: JSONValue) -> Int {
        let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.first?.stringValue ?? ""
        switch type {
        case "string":
            if schema["enum"] != nil { return 8 }
            return (schema["maxLength"]?.doubleValue).map { Int(($0 / 3).rounded(.up)) + 2 } ?? 48
        case "number", "integer": return 8
        case "boolean", "null": return 2
        case "array":
            let items = Int(schema["maxItems"]?.doubleValue ?? 4)
            return 2 + items * (tokenBound(schema["items"] ?? .object([:])) + 1)
        case "object":
            let props = schema["properties"]?.objectValue ?? [:]
            return 2 + props.reduce(0) { $0 + $1.key.count / 3 + 3 + tokenBound($1.value) }
        default: return 48
        }
    }

    func generate(_ c: EngineCall, counter: EngineCallCounter, answers: AnswerTally, warnings: inout [String]) async throws -> JSONValue {
        try Task.checkCancellation()
        let outcome: Result<EngineAnswer, EngineError>
        do {
            outcome = try await engine.ask(c, counter: counter)
        } catch let e as EngineError where e.isServerFault {
            // The server failed this request even after its retries (HTTP 5xx, a reply not in the API's shape).
            // Like an invalid answer: one lost chunk is a warning; no answer at all degrades the job.
            outcome = .failure(e)
        }
        switch outcome {
        case .success(let answer):
            answers.record(nil)
            return answer.json
        case .failure(let e):
            // The model answered, but not validly even after the engine's repair: keep going on what was measured.
            answers.record("\(e)")
            warnings.append("\(c.purpose): the engine gave no usable answer (\(e)); measured and extractive parts only")
            return .object([:])
        }
    }

    struct ChunkSummary { var start: Double; var end: Double; var text: String }

    /// Packs evidence lines into time-ordered chunks that each fit one map request, and summarizes each.
    func mapChunks(_ e: Evidence, counter: EngineCallCounter, answers: AnswerTally, warnings: inout [String]) async throws -> ([ChunkSummary], Int) {
        let prompt = spec.mapPrompt ?? Self.defaultMap
        let budget = engine.description.contextTokens - answerTokens(prompt, schema: Self.mapSchema) - 48
        // Cost each line once (linear, even for a two-hour lecture): a chunk costs the empty prompt plus
        // its lines plus a token per line break. A small margin covers tokenizer merges across lines.
        let empty = await engine.estimateTokens(call(prompt, inputs: e.inputs(lines: []), schema: Self.mapSchema, purpose: "map"))
        let room = Int(Double(budget - empty) * 0.9)
        var chunks: [[Evidence.Line]] = []
        var current: [Evidence.Line] = []
        var used = 0
        for var line in e.lines {
            var cost = await lineCost(line.text)
            // A single line too long for a request (rare: a huge OCR block) is cut down to fit.
            while cost > room && line.text.count > 80 {
                line.text = String(line.text.prefix(line.text.count * 2 / 3))
                cost = await lineCost(line.text)
            }
            if used + cost > room && !current.isEmpty { chunks.append(current); current = []; used = 0 }
            current.append(line); used += cost
        }
        if !current.isEmpty { chunks.append(current) }
        var out: [ChunkSummary] = []
        for chunk in chunks {
            let c = call(prompt, inputs: e.inputs(lines: chunk), schema: Self.mapSchema, purpose: "map")
            let answer = try await generate(c, counter: counter, answers: answers, warnings: &warnings)
            let start = chunk.first?.time ?? 0, end = chunk.last?.time ?? start
            var text = answer["summary"]?.stringValue ?? ""
            // If the model gave nothing, the chunk's most central sentence stands in for it.
            if text.trimmingCharacters(in: .whitespaces).isEmpty {
                let sentences = Extractive.sentences(chunk.filter { $0.kind == .transcript }.map { .init(start: $0.time, end: $0.time, text: $0.text) })
                text = Extractive.central(sentences, count: 1).first?.0.text ?? chunk.first?.text ?? ""
            }
            out.append(ChunkSummary(start: start, end: end, text: "[\(Evidence.clock(start))–\(Evidence.clock(end))] \(text)"))
        }
        return (out, chunks.count)
    }

    func lineCost(_ text: String) async -> Int {
        await engine.estimateTokens(EngineCall(purpose: "cost", system: "", parts: [.text(text)], schema: .null, maxTokens: 0)) + 1
    }

    /// Merges neighbouring chunk summaries in pairs through the map prompt (one level of a reduce tree).
    func combine(_ s: [ChunkSummary], evidence: Evidence, counter: EngineCallCounter, answers: AnswerTally, warnings: inout [String]) async throws -> [ChunkSummary] {
        let prompt = spec.mapPrompt ?? Self.defaultMap
        var out: [ChunkSummary] = []
        var i = 0
        while i < s.count {
            let group = Array(s[i..<min(i + 2, s.count)])
            i += 2
            if group.count == 1 { out.append(group[0]); continue }
            var inputs = evidence.inputs(lines: [])
            inputs["transcript"] = group.map(\.text).joined(separator: "\n")
            let answer = try await generate(call(prompt, inputs: inputs, schema: Self.mapSchema, purpose: "combine"), counter: counter, answers: answers, warnings: &warnings)
            let text = answer["summary"]?.stringValue ?? group.map(\.text).joined(separator: " ")
            out.append(ChunkSummary(start: group[0].start, end: group[group.count - 1].end,
                                    text: "[\(Evidence.clock(group[0].start))–\(Evidence.clock(group[group.count - 1].end))] \(text)"))
        }
        return out
    }
}

/// Counts engine calls made for one job (the store records them; tests assert a re-run makes none).
public final class EngineCallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    public init() {}
    public func add(_ k: Int = 1) { lock.lock(); n += k; lock.unlock() }
    public var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

/// The summarize stage's checkpoint.
struct SummaryCheckpoint: Codable, Sendable {
    var results: JSONValue
    var extract: [RecapOutput.ExtractSentence]
    var grounding: RecapOutput.Grounding
    var provenance: [String: String]
    var warnings: [String]
    var chunks: Int
    /// Why the model's part is missing (``Summarizer/Outcome/degraded``).
    var degraded: String?
}

/// Valid and invalid model answers within one summarize stage.
final class AnswerTally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var valid = 0
    private(set) var invalid = 0
    private(set) var firstInvalid: String?
    /// `problem` nil: a valid answer.
    func record(_ problem: String?) {
        lock.withLock {
            if let problem { invalid += 1; if firstInvalid == nil { firstInvalid = problem } } else { valid += 1 }
        }
    }
}

