import Engine
import Foundation

/// The pipeline's engine side over the Engine module: passes requests through, asks the engine's own planner
/// for token counts, and sorts failures into three kinds the runner treats differently:
/// - the engine is not there or refuses us (unreachable, crashed, wrong API key): `EngineUnavailable`, the run stops;
/// - the server failed this request (HTTP 5xx after retries, a malformed reply): rethrown, the job fails and is retried;
/// - the model answered, but badly (invalid JSON after the repair): rethrown as is; callers may fall back.
public struct EngineBridge: EnginePort {
    public let engine: any Engine
    public let description: EngineDescription

    public init(_ engine: any Engine) {
        self.engine = engine
        description = EngineDescription(backend: engine.identity.backend, identity: engine.identity.key,
                                        models: engine.identity.models, capabilities: engine.capabilities)
    }

    func request(_ call: EngineCall) -> EngineRequest {
        let schema: JSONValue? = {
            if case .null = call.schema { return nil }
            return call.schema
        }()
        return EngineRequest(
            system: call.system.isEmpty ? nil : call.system, parts: call.parts,
            schema: schema, schemaName: "recap_" + call.purpose.replacingOccurrences(of: " ", with: "_"),
            maxTokens: max(1, call.maxTokens), temperature: 0, seed: 42)  // greedy: the same evidence, the same answer
    }

    public func estimateTokens(_ call: EngineCall) async -> Int {
        if let p = try? await engine.planner.plan(request(call)) { return p.promptTokens }
        // The planner's tokenizer failed: fall back to a cautious characters-per-token estimate.
        let chars = call.parts.reduce(call.system.count) { n, p in if case .text(let t) = p { return n + t.count }; return n + 1024 }
        return chars / 3 + 32
    }

    public func generate(_ call: EngineCall) async throws -> EngineAnswer {
        do {
            let response = try await engine.generate(request(call))
            return EngineAnswer(json: response.json, calls: max(1, response.usage.calls))
        } catch let e as EngineError {
            switch e {
            case .unreachable, .serverFailed, .missingFile, .connectionLost, .timedOut:
                throw EngineUnavailable(e.description)
            case .httpStatus(let url, let status, _) where status == 401 || status == 403:
                // Every request would be refused the same way: stop the run (exit 1: configuration) at once.
                throw EngineUnavailable("the API key was refused by \(url) (HTTP \(status)); set RECAP_API_KEY (or OPENAI_API_KEY) to a key the server accepts", exitCode: 1)
            default:
                throw e
            }
        }
    }
}

extension EngineError {
    /// The model answered, but not usefully (not JSON, or against the schema even after the repair): the
    /// pipeline may fall back on what was measured. Every other engine error fails the job, so a rerun once the
    /// server is fixed makes the real result instead of reporting "unchanged".
    public var isModelAnswer: Bool {
        switch self {
        case .invalidOutput, .invalidJSON: return true
        default: return false
        }
    }

    /// The server failed the request after its retries: HTTP 5xx, or a reply not in the API's shape. Not the
    /// model's answer, and not a sign the server is gone (that is `EngineUnavailable`).
    public var isServerFault: Bool {
        switch self {
        case .httpStatus(_, let status, _): return status >= 500
        case .malformedResponse: return true
        default: return false
        }
    }

    /// Model calls an answer that failed this way took (the first answer and the engine's re-ask).
    public var callsMade: Int {
        if case .invalidOutput(_, _, _, let attempts) = self { return max(1, attempts) }
        return 1
    }
}

extension EnginePort {
    /// Sends `call` and counts the model calls it took in `counter`. An answer the model gave but could not make
    /// valid (even after the engine's re-ask) comes back as `.failure`, for the caller to fall back on what was
    /// measured; anything else (unreachable, refused, HTTP errors, cancellation) is not the model's answer and
    /// is thrown, so the job fails or the run stops instead of passing for done.
    func ask(_ call: EngineCall, counter: EngineCallCounter) async throws -> Result<EngineAnswer, EngineError> {
        do {
            let answer = try await generate(call)
            counter.add(answer.calls)
            return .success(answer)
        } catch let e as EngineError where e.isModelAnswer {
            counter.add(e.callsMade)
            return .failure(e)
        } catch {
            counter.add()
            throw error
        }
    }
}
