import Foundation

/// One raw answer from a chat endpoint.
struct RawCompletion: Sendable {
    var text: String
    var finishReason: String?
    var usage: TokenUsage
    var httpSeconds: Double
    var serverPromptMs: Double?
    var serverGenerationMs: Double?
    var promptTokensPerSecond: Double?
    var generationTokensPerSecond: Double?
}

/// Turns raw model text into validated JSON: parse, validate against the schema, close a truncated document,
/// and when that is not enough ask the model once more with the error. Then a typed error.
enum StructuredOutput {
    enum Verdict {
        case valid(JSONValue, text: String)
        case closed(JSONValue, text: String)
        case invalid(reason: String)
    }

    /// Judges one answer against an optional schema.
    static func judge(_ raw: String, schema: JSONValue?) -> Verdict {
        let doc = JSONRepair.extractDocument(raw)
        let validator = schema.map(JSONSchemaValidator.init(schema:))
        func problems(_ v: JSONValue) -> [JSONSchemaValidator.Violation] { validator?.violations(of: v) ?? [] }

        var reason: String
        do {
            let value = try JSONValue.parse(doc)
            let v = problems(value)
            if v.isEmpty { return .valid(value, text: doc) }
            reason = "schema violations: " + v.prefix(8).map(\.description).joined(separator: "; ")
        } catch {
            reason = doc.isEmpty ? "the answer was empty" : "not valid JSON (\(error))"
            if let closedText = JSONRepair.closeTruncated(doc), let value = try? JSONValue.parse(closedText) {
                let v = problems(value)
                if v.isEmpty { return .closed(value, text: closedText) }
                reason += "; closing it gives " + v.prefix(8).map(\.description).joined(separator: "; ")
            }
        }
        return .invalid(reason: reason)
    }

    /// Runs `call` (one HTTP exchange) with the repair policy. `messages` is the original conversation.
    static func generate(
        request: EngineRequest,
        messages: [ChatWire.Message],
        identity: EngineIdentity,
        evidence: [MeasuredEvidence],
        evidenceSeconds: Double,
        started: ContinuousClock.Instant,
        call: ([ChatWire.Message]) async throws -> RawCompletion
    ) async throws -> EngineResponse {
        let first = try await call(messages)
        var usage = first.usage
        var http = first.httpSeconds

        func response(_ json: JSONValue, _ text: String, _ raw: RawCompletion, _ repair: EngineResponse.Repair) -> EngineResponse {
            EngineResponse(
                text: text, json: json, usage: usage,
                timings: EngineTimings(
                    totalSeconds: (ContinuousClock.now - started).seconds, httpSeconds: http,
                    evidenceSeconds: evidenceSeconds, serverPromptMs: raw.serverPromptMs,
                    serverGenerationMs: raw.serverGenerationMs, promptTokensPerSecond: raw.promptTokensPerSecond,
                    generationTokensPerSecond: raw.generationTokensPerSecond),
                finishReason: raw.finishReason, repair: repair, evidence: evidence, identity: identity)
        }

        let reason: String
        switch judge(first.text, schema: request.schema) {
        case .valid(let json, let text): return response(json, text, first, .none)
        case .closed(let json, let text): return response(json, text, first, .closedLocally)
        case .invalid(let why): reason = why
        }

        // The one repair attempt: same conversation, plus what was wrong.
        let cut = first.finishReason == "length"
        var note = "Your previous answer was rejected: \(reason)."
        if cut { note += " It was cut off at \(request.maxTokens) tokens: answer much more briefly." }
        note += " Reply with only one JSON document that satisfies the required schema, nothing else."
        let second = try await call(messages + [ChatWire.Message(role: "user", content: .text(note))])
        usage = usage + second.usage
        http += second.httpSeconds
        switch judge(second.text, schema: request.schema) {
        case .valid(let json, let text), .closed(let json, let text):
            return response(json, text, second, .reasked)
        case .invalid(let why):
            throw EngineError.invalidOutput(reason: why, truncated: second.finishReason == "length", output: second.text,
                                            attempts: usage.calls)
        }
    }
}
