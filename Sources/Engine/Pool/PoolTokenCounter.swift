import Foundation
import Synchronization

/// The board behind its lock, shared by the pool and its token counter.
final class SharedBoard: Sendable {
    let mutex: Mutex<EndpointBoard>

    init(_ board: EndpointBoard) { mutex = Mutex(board) }

    /// Servers to ask for token counts: those taking requests first, then those cooling down; never retired.
    func countingOrder() -> [Int] {
        mutex.withLock { board in
            let live = board.endpoints.indices.filter { if case .retired = board.endpoints[$0].state { return false }; return true }
            return live.filter { board.endpoints[$0].state == .healthy } + live.filter { board.endpoints[$0].state != .healthy }
        }
    }
}

/// Counts tokens with the first server that answers: they all serve one model, so they all count alike.
/// Counting does not change a server's health; only real requests do.
struct PoolTokenCounter: TextTokenCounter {
    let members: [OpenAIEngine]
    let board: SharedBoard

    var isExact: Bool { members[0].planner.counter.isExact }

    func count(_ text: String) async throws -> Int {
        var last: EngineError?
        for i in board.countingOrder() {
            do { return try await members[i].planner.counter.count(text) } catch let e as EngineError where e.isServerFault {
                last = e
            }
        }
        throw last ?? EngineError.unreachable(server: members[0].configuration.serverName,
                                              url: members.map(\.configuration.baseURL).joined(separator: ", "),
                                              reason: "no server of the pool is left")
    }
}
