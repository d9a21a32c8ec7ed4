import Foundation
@testable import PostgresStore
import Store
import Testing
import ThrowawayPostgres

/// Every call to PostgreSQL has a deadline (a worker cut off from its database was seen waiting forever); one
/// watchdog per store keeps them.
@Suite struct AnswerDeadlineTests {
    @Test func aCallWithoutAnAnswerFailsAtItsDeadlineAndTheStoreGoesOn() async throws {
        let url = try TestCluster.shared.get().makeDatabase()
        let store = try await PostgresJobStore.open(url: url, options: .init(answerSeconds: 1))
        do {
            try await store.query("SELECT pg_sleep(20)")
            Issue.record("a 20 s statement answered within a 1 s deadline")
        } catch let error as StoreError {
            #expect(error.description.contains("no answer within 1 s"), "\(error)")
        }
        #expect(store.watchdog.count == 0)
        // The pool that did not answer was replaced: the next call connects afresh and is answered.
        let id = try await store.enqueue([EnqueueRequest(fingerprint: "f", path: "/p", identity: identity)])[0].jobID
        #expect(try await store.job(id)?.state == .queued)
        #expect(store.watchdog.count == 0)
        await store.close()
    }

    @Test func aReleasedCallNeverExpiresAndAnIdleWatchdogStops() async throws {
        let watchdog = Watchdog(tick: .milliseconds(20))
        let fired = Counter()
        let early = watchdog.watch(for: 0.05) { fired.add("early") }
        let late = watchdog.watch(for: 0.05) { fired.add("late") }
        watchdog.release(early)
        try await Task.sleep(for: .milliseconds(300))
        #expect(fired.names == ["late"])
        #expect(watchdog.count == 0)
        _ = late
        // Watching again after it went idle starts it again.
        _ = watchdog.watch(for: 0.01) { fired.add("again") }
        try await Task.sleep(for: .milliseconds(300))
        #expect(fired.names == ["late", "again"])
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var fired: [String] = []
    func add(_ name: String) { lock.withLock { fired.append(name) } }
    var names: [String] { lock.withLock { fired } }
}
