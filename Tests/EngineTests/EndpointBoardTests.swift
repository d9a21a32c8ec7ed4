import Foundation
import Testing
@testable import Engine

/// The pool's bookkeeping as plain data, with a clock the test moves.
@Suite struct EndpointBoardTests {
    let start = ContinuousClock.now
    let policy = PoolPolicy(initialCoolDown: .seconds(5), maxCoolDown: .seconds(20))

    @Test func theLeastLoadedServerTakesTheRequestAndTiesTakeTurns() {
        var board = EndpointBoard(count: 3, policy: policy)
        let first = (0..<3).compactMap { _ in board.take(excluding: [], now: start)?.index }
        #expect(first == [0, 1, 2])
        let t = board.take(excluding: [], now: start)!  // all hold one: the turn goes on
        #expect(t.index == 0)
        board.finish(t, .answered, now: start)
        board.finish(EndpointBoard.Ticket(index: 2, epoch: 0, probe: false, verify: false), .answered, now: start)
        #expect(board.take(excluding: [], now: start)?.index == 2)  // the only one with nothing in flight
    }

    @Test func aRequestNeverGoesBackToAServerItTried() {
        var board = EndpointBoard(count: 2, policy: policy)
        #expect(board.take(excluding: [0], now: start)?.index == 1)
        #expect(board.take(excluding: [0, 1], now: start) == nil)
    }

    @Test func aFailureEjectsOnceAndTheCoolDownDoublesUpToItsLimit() {
        var board = EndpointBoard(count: 1, policy: policy)
        let a = board.take(excluding: [], now: start)!, b = board.take(excluding: [], now: start)!
        board.finish(a, .failed, now: start)
        board.finish(b, .failed, now: start)  // sent before the ejection: counted, not ejected again
        #expect(board.endpoints[0].ejections == 1)
        #expect(board.endpoints[0].failures == 2)
        #expect(board.take(excluding: [], now: start + .seconds(4)) == nil)
        var now = start + .seconds(5)
        for expected in [10, 20, 20] {
            let probe = board.take(excluding: [], now: now)!
            #expect(probe.probe)
            #expect(board.take(excluding: [], now: now) == nil)  // one probe at a time
            board.finish(probe, .failed, now: now)
            #expect(board.endpoints[0].state == .coolingDown(until: now + .seconds(expected)))
            now += .seconds(expected)
        }
        let probe = board.take(excluding: [], now: now)!
        board.finish(probe, .answered, now: now)
        #expect(board.endpoints[0].state == .healthy)
        #expect(board.endpoints[0].coolDown == .seconds(5))
    }

    @Test func aCancelledProbeLeavesTheTurnToTheNextRequest() {
        var board = EndpointBoard(count: 1, policy: policy)
        board.startDown(0, now: start)
        let probe = board.take(excluding: [], now: start + .seconds(5))!
        #expect(probe.verify)
        board.finish(probe, .abandoned, now: start + .seconds(5))
        #expect(board.take(excluding: [], now: start + .seconds(5))?.probe == true)
    }

    @Test func aRequestWithNoServerLeftWaitsWhileAnotherProbes() {
        var board = EndpointBoard(count: 2, policy: policy)
        board.startDown(0, now: start)
        board.startDown(1, now: start)
        let probe = board.take(excluding: [], now: start + .seconds(5))!
        #expect(board.take(excluding: [], now: start + .seconds(5))?.index == 1 - probe.index)
        #expect(board.take(excluding: [], now: start + .seconds(5)) == nil)
        #expect(board.probeInFlight(excluding: []))
        #expect(!board.probeInFlight(excluding: [0, 1]))
        board.finish(probe, .failed, now: start + .seconds(5))
        #expect(board.probeInFlight(excluding: []))  // the other probe is still out
    }

    @Test func urlListsFromFlagsAndFiles() {
        let file = """
            # the GPU boxes
            http://gpu-1:8000/v1
            gpu-2:8000/v1/   # trailing slash, no scheme

            http://gpu-1:8000/v1
            """
        #expect(EndpointList.parse(["http://a:8000/v1,http://b:8000/v1", "http://c:8000/v1"], fileText: file)
                == ["http://a:8000/v1", "http://b:8000/v1", "http://c:8000/v1", "http://gpu-1:8000/v1", "http://gpu-2:8000/v1"])
        #expect(EndpointList.parse(["http://a:8000/v1"]) == ["http://a:8000/v1"])
    }
}
