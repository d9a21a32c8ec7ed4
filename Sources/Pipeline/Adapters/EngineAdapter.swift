import Engine
import Foundation

/// The pipeline's engine side over the Engine module: converts requests, asks the engine's own planner
/// for token counts, and tells "the engine is not there" apart from "the model answered badly".
public struct EngineBridge: EnginePort {
    public let engine: any Engine
    public let description: EngineDescription

    public init(_ engine: any Engine) {
        self.engine = engine
        let c = engine.capabilities
        var caps: [String] = []
        if c.text { caps.append("text") }
        if c.images { caps.append(c.imagesAsEvidence ? "images-as-evidence" : "images") }
        if c.audio { caps.append(c.audioAsTranscript ? "audio-as-transcript" : "audio") }
        if c.jsonSchema { caps.append("json-schema") }
        description = EngineDescription(
            backend: engine.identity.backend, identity: engine.identity.key, models: engine.identity.models,
            capabilities: caps,
            // An engine that only OCRs images sees nothing the frames stage has not already measured.
            acceptsImages: c.images && !c.imagesAsEvidence,
            contextTokens: c.contextTokens, maxImagesPerRequest: c.maxImagesPerRequest)
    }

    func request(_ call: EngineCall) -> EngineRequest {
        let schema: JSONValue? = {
            if case .null = call.schema { return nil }
            return try? JSONValue.parse(call.schema.data())
        }()
        return EngineRequest(
            system: call.system.isEmpty ? nil : call.system,
            parts: call.parts.map {
                switch $0 {
                case .text(let t): return .text(t)
                case .jpeg(let d): return .image(EngineImage(jpeg: d))
                }
            },
            schema: schema, schemaName: "recap_" + call.purpose.replacingOccurrences(of: " ", with: "_"),
            maxTokens: max(1, call.maxTokens), temperature: 0.2, seed: 42)
    }

    public func estimateTokens(_ call: EngineCall) async -> Int {
        if let p = try? await engine.planner.plan(request(call)) { return p.promptTokens }
        // The planner's tokenizer failed: fall back to a cautious characters-per-token estimate.
        let chars = call.parts.reduce(call.system.count) { n, p in if case .text(let t) = p { return n + t.count }; return n + 1024 }
        return chars / 3 + 32
    }

    public func generate(_ call: EngineCall) async throws -> JSONValue {
        do {
            let response = try await engine.generate(request(call))
            return try JSONValue.parse(Data(response.json.jsonString().utf8))
        } catch let e as EngineError {
            switch e {
            case .unreachable, .serverFailed, .missingFile, .connectionLost, .timedOut:
                throw EngineUnavailable(e.description)
            default:
                throw e
            }
        }
    }
}
