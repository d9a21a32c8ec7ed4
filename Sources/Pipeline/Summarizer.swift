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

    static let defaultMap = PipelineSpec.Prompt(
        system: "You summarize one part of a longer video from its evidence. Use only facts in the evidence.",
        template: "Evidence for one part of the video ({metadata}).\nTranscript:\n{transcript}\nOn-screen text (OCR):\n{ocr}\nFrame facts:\n{frame_facts}\nSummarize this part in two sentences and list its key points.",
        maxTokens: 200)

    public func run(_ evidence: Evidence, counter: EngineCallCounter) async throws -> Outcome {
        var warnings: [String] = []
        let sentences = Extractive.sentences(evidence.segments)
        let central = Extractive.central(sentences, count: min(5, max(1, sentences.count / 4 + 1)))
        let extract = central.map { RecapOutput.ExtractSentence(text: $0.0.text, start: $0.0.start, score: ($0.1 * 1000).rounded() / 1000) }
        let grounding = Self.grounding(evidence)

        var model: JSONValue
        var chunks = 1
        let answers = AnswerTally()
        var provenance: [String: String] = [:]
        if !evidence.hasSpeech && !evidence.hasOnScreenText && !evidence.hasModelDescriptions {
            // Nothing a language model could summarize truthfully: say so instead of asking it to invent.
            model = SchemaFiller.fill(spec.resultSchema, text: grounding.note)
            for k in spec.resultSchema["properties"]?.objectValue?.keys ?? [:].keys { provenance["results.\(k)"] = "derived" }
        } else {
            let budget = engine.description.contextTokens - answerTokens(spec.reducePrompt, schema: modelSchema) - 48
            let allInputs = evidence.inputs(extract: central.map(\.0))
            let single = call(spec.reducePrompt, inputs: allInputs, schema: modelSchema, purpose: "summarize")
            if await engine.estimateTokens(single) <= budget {
                model = try await generate(single, counter: counter, answers: answers, warnings: &warnings)
            } else {
                let (summaries, n) = try await mapChunks(evidence, counter: counter, answers: answers, warnings: &warnings)
                chunks = n
                var text = summaries
                // Reduce until the chunk summaries fit one request (hierarchical for very long media).
                while true {
                    let inputs = evidence.inputs(lines: [], extract: central.map(\.0), chunkSummaries: text.map(\.text).joined(separator: "\n"))
                    let reduce = call(spec.reducePrompt, inputs: inputs.merging(["transcript": "(summarized per part below)"]) { $1 },
                                      schema: modelSchema, purpose: "reduce")
                    if await engine.estimateTokens(reduce) <= budget || text.count <= 1 {
                        model = try await generate(reduce, counter: counter, answers: answers, warnings: &warnings)
                        break
                    }
                    text = try await combine(text, evidence: evidence, counter: counter, answers: answers, warnings: &warnings)
                }
            }
            // Not one valid answer: the server or model is broken for this schema. Failing the job (it is retried
            // with backoff) beats passing the extractive stand-in off as done, which a rerun would then skip.
            if answers.valid == 0, let reason = answers.firstInvalid {
                throw UnusableAnswers(count: answers.invalid, reason: reason)
            }
            let (grounded, dropped) = GroundingGate(evidence).filter(model, schema: modelSchema)
            if !dropped.isEmpty {
                warnings.append("summarize: the model's \(dropped.joined(separator: ", ")) did not rest on the evidence; what was said stands in (extractive)")
            }
            var fields = grounded.objectValue ?? [:]
            for k in fields.keys { provenance["results.\(k)"] = "model" }
            // What the model left out or got wrong: say what was said instead (extractive), never the grounding note.
            for (k, v) in Self.extractiveFallback(modelSchema, extract: extract, evidence: evidence).objectValue ?? [:] where fields[k] == nil {
                fields[k] = v
                provenance["results.\(k)"] = "extractive"
            }
            model = .object(fields)
        }
        var results = ResultAssembler(spec: spec, evidence: evidence, extract: extract).assemble(model, provenance: &provenance)
        let errors = JSONSchemaValidator(schema: spec.resultSchema).violations(of: results).map(\.description)
        if !errors.isEmpty {
            warnings.append("the model's result needed repair to fit the pipeline schema: \(errors.prefix(3).joined(separator: "; "))")
            results = SchemaFiller.repair(results, schema: spec.resultSchema, text: grounding.note)
        }
        return Outcome(results: results, extract: extract, grounding: grounding, provenance: provenance,
                       warnings: warnings, engineCalls: counter.value, chunks: chunks)
    }

    /// Text fields filled from the transcript's central sentences (or on-screen text) when the model failed.
    static func extractiveFallback(_ schema: JSONValue, extract: [RecapOutput.ExtractSentence], evidence: Evidence) -> JSONValue {
        var sentences = extract.map(\.text)
        if sentences.isEmpty {
            sentences = evidence.scenes.map(\.ocrText).filter { !$0.isEmpty }
        }
        guard !sentences.isEmpty else { return .object([:]) }
        let onScreenTitle = evidence.scenes.lazy.compactMap {
            $0.ocrText.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }.first { $0.count >= 3 }
        var out: [String: JSONValue] = [:]
        for (key, prop) in schema["properties"]?.objectValue ?? [:] where prop["type"]?.stringValue == "string" {
            let max = Int(prop["maxLength"]?.doubleValue ?? 10_000)
            var text = ["title", "one_line", "short_caption", "alt_text"].contains(key) ? sentences[0] : sentences.joined(separator: " ")
            // A title shown on screen (a title card, a slide heading) names the video better than a sentence.
            if key == "title", let shown = onScreenTitle { text = shown }
            out[key] = .string(Limits.truncate(text, to: max))
        }
        return .object(out)
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
                : String(format: "No speech and no on-screen text were found in this %.0f-second %@, so there is nothing to summarize beyond measured picture facts; no story was invented.",
                         e.probe.durationSeconds, e.probe.hasVideo ? "video" : "recording")
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
        switch try await engine.ask(c, counter: counter) {
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

/// Every answer of a stage was invalid for its schema, even after the engine's re-ask.
public struct UnusableAnswers: Error, CustomStringConvertible {
    public var count: Int
    public var reason: String
    public var description: String {
        "the engine answered \(count) time\(count == 1 ? "" : "s") but never validly for the schema (\(reason)); the job is retried later. Check the server and model with `recap engine check`."
    }
}
