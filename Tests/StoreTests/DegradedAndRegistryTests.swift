import Foundation
import GRDB
import Testing
@testable import Store

/// SQLite-only sides of the degraded state and the worker registry: the store's injected clock, and the upgrade
/// of a store written before them. The behaviour shared with PostgreSQL is in StoreContractTests.
@Suite struct DegradedAndRegistryTests {
    @Test func aDegradedJobWaitsOutTheFirstBackoffForWorkersButNotForANewRun() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let clock = ManualClock()
        let store = try makeStore(dir, clock: clock)  // backoff 10 s after attempt 1, no jitter
        let id = try store.enqueue(request(1)).jobID
        let a = try #require(try store.claim(owner: "a"))
        try store.checkpoint(a.lease, stage: .summarize)
        try store.complete(a.lease, result: nil, degraded: "empty answer", redo: [.summarize])
        #expect(try store.job(id)?.notBefore == clock.now().addingTimeInterval(10))
        #expect(try store.nextRetryDate() == clock.now().addingTimeInterval(10))
        clock.advance(by: 9)
        #expect(try store.claim(owner: "worker") == nil)
        clock.advance(by: 1)
        #expect(try store.claim(owner: "worker")?.job.id == id)
    }

    @Test func aStoreFromBeforeDegradedJobsGetsTheNewIndexAndRegistry() throws {
        let dir = try TempDir(); defer { dir.remove() }
        let path = dir.file("store.sqlite")
        let old = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(old, upTo: "v6-corrections")
        try old.close()

        let store = try JobStore(path: path)
        let index = try store.read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'jobs_ready'")
        }
        #expect(index?.contains("'degraded'") == true)
        let worker = try store.registerWorker(name: "w", host: "h", pid: 1)
        #expect(try store.workers().map(\.id) == [worker])
    }
}
