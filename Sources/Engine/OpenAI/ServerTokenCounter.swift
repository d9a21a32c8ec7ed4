import Foundation
import Synchronization

/// Counts tokens with the server's own tokenizer (`POST /tokenize` at the server root: llama-server and vLLM).
/// If the server has no such endpoint, it falls back to the estimate for good, without asking again.
final class ServerTokenCounter: TextTokenCounter {
    private let transport: HTTPTransport
    private let model: String
    private let fallback = EstimatingTokenCounter()
    private let unavailable = Mutex(false)

    init(transport: HTTPTransport, model: String) {
        self.transport = transport
        self.model = model
    }

    var isExact: Bool { !unavailable.withLock { $0 } }

    func count(_ text: String) async throws -> Int {
        if text.isEmpty { return 0 }
        if unavailable.withLock({ $0 }) { return fallback.estimate(text) }
        let body = try JSONEncoder().encode(ChatWire.TokenizeRequest(content: text, prompt: text, model: model.isEmpty ? nil : model))
        do {
            let reply = try await transport.send("/tokenize", body: body, root: true, retries: 2, timeout: .seconds(30))
            let decoded = try JSONDecoder().decode(ChatWire.TokenizeResponse.self, from: reply.body)
            if let n = decoded.count ?? decoded.tokens?.count { return n }
        } catch let e as EngineError {
            // Unreachable servers are the caller's problem: report it rather than plan blind.
            if case .unreachable = e { throw e }
            if case .connectionLost = e { throw e }
        } catch is CancellationError {
            throw CancellationError()
        } catch {}
        unavailable.withLock { $0 = true }
        return fallback.estimate(text)
    }
}
