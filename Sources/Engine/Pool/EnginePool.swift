import Foundation
import Synchronization

/// Several OpenAI-compatible servers serving the same model, used as one engine. Each request goes to the
/// server with the fewest requests in flight (ties in turn). A server that fails (see
/// `EngineError.isServerFault`) is taken out for a cool-down (doubling, reset by a success) and the same
/// request goes to another server; after the cool-down the next request probes it. Only when no server is left
/// does a request fail, as `unreachable`: the pipeline's "engine unavailable".
///
/// The identity is the single server's: the servers serve one model, so results do not depend on how many
/// there are or in which order they were given.
public final class EnginePool: Engine {
    public let capabilities: EngineCapabilities
    public let identity: EngineIdentity
    public let planner: TokenPlanner
    let members: [OpenAIEngine]
    let board: SharedBoard
    /// The model every server must serve.
    let model: String

    init(members: [OpenAIEngine], policy: PoolPolicy, model: String, downAtStart: Set<Int> = []) {
        precondition(!members.isEmpty, "a pool needs at least one server")
        self.members = members
        self.model = model
        let first = members[0]
        capabilities = first.capabilities
        identity = EngineIdentity(backend: first.identity.backend, models: first.identity.models,
                                  endpoint: members.map(\.configuration.baseURL).joined(separator: ","))
        var board = EndpointBoard(count: members.count, policy: policy)
        for i in downAtStart.sorted() { board.startDown(i, now: .now) }
        self.board = SharedBoard(board)
        planner = TokenPlanner(capabilities: first.capabilities, counter: PoolTokenCounter(members: members, board: self.board))
    }

    /// The servers' API roots, in the order given.
    public var baseURLs: [String] { members.map(\.configuration.baseURL) }

    public func generate(_ request: EngineRequest) async throws -> EngineResponse {
        let started = ContinuousClock.now
        // Planned once, here: the servers serve one model with one tokenizer.
        try await planner.check(request)
        var tried = Set<Int>()
        var lastFault: EngineError?
        while true {
            try Task.checkCancellation()
            let (taken, waitForProbe) = board.mutex.withLock { ($0.take(excluding: tried, now: .now), $0.probeInFlight(excluding: tried)) }
            guard let ticket = taken else {
                if waitForProbe {
                    try await Task.sleep(for: Self.probeWait)
                    continue
                }
                throw noServerLeft(lastFault)
            }
            // This request never goes back to a server it was sent to, even one that came back meanwhile.
            tried.insert(ticket.index)
            let member = members[ticket.index]
            do {
                if ticket.verify {
                    // Down at start, so never compared: a server serving another model would answer under the
                    // wrong name. It is out for good, and the request goes elsewhere.
                    guard try await serves(member) else {
                        board.mutex.withLock { $0.retire(ticket.index, reason: "serves another model than \(model)") }
                        finish(ticket, .abandoned)
                        continue
                    }
                    board.mutex.withLock { $0.verified(ticket.index) }
                }
                let response = try await member.generate(request, evidence: [], evidenceSeconds: 0, started: started)
                finish(ticket, .answered)
                return response
            } catch let e as EngineError where e.isServerFault {
                if Task.isCancelled {
                    // Our own cancellation cut the exchange: the server did nothing wrong.
                    finish(ticket, .abandoned)
                    throw CancellationError()
                }
                finish(ticket, .failed)
                lastFault = e
            } catch let e as EngineError {
                finish(ticket, .answered)
                throw e
            } catch {
                finish(ticket, .abandoned)
                throw error
            }
        }
    }

    /// How often a request with no server left looks again while another request probes a server.
    static let probeWait: Duration = .milliseconds(100)

    public func shutdown() async {
        for m in members { await m.shutdown() }
    }

    private func finish(_ ticket: EndpointBoard.Ticket, _ outcome: EndpointBoard.Outcome) {
        board.mutex.withLock { $0.finish(ticket, outcome, now: .now) }
    }

    /// A server that was down at start, on its first answer: does it serve the pool's model?
    private func serves(_ member: OpenAIEngine) async throws -> Bool {
        do { return try await member.listModels().contains(model) } catch EngineError.httpStatus(_, let status, _) where status != 401 && status != 403 && status < 500 {
            return true  // no /v1/models: nothing to compare, as at start
        }
    }

    /// What the pipeline reads as "engine unavailable": every server failed this request or is cooling down.
    private func noServerLeft(_ last: EngineError?) -> EngineError {
        let why = last.map { "the last failure: \($0)" } ?? "every server is cooling down after failing"
        return .unreachable(server: members[0].configuration.serverName, url: baseURLs.joined(separator: ", "),
                            reason: "no server of the pool is left; \(why)")
    }
}
