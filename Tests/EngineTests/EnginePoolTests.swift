import Foundation
import Testing
@testable import Engine

/// The pool over real HTTP on 127.0.0.1, against stand-in servers in child processes (`PoolStandIn`).
/// Every assertion is on counts (requests each server received, the pool's own counters), none on time.
@Suite(.serialized) struct EnginePoolTests {
    static let model = "gemma-3n"

    func config(_ server: PoolStandIn, model: String = "") -> OpenAIConfiguration {
        OpenAIConfiguration(baseURL: server.url, model: model, preset: .generic, apiKey: nil, maxRetries: 1,
                            initialBackoff: .milliseconds(10))
    }

    func pool(_ servers: [PoolStandIn], coolDown: Duration = .seconds(60)) async throws -> EnginePool {
        try await EnginePool.connect(configurations: servers.map { config($0) },
                                     policy: PoolPolicy(initialCoolDown: coolDown, maxCoolDown: coolDown * 4))
    }

    func request(_ tag: String) -> EngineRequest {
        EngineRequest(parts: [.text(tag)], schema: ["type": "object"], maxTokens: 16)
    }

    /// Sends `count` requests, `concurrency` at a time, and returns the tags that came back.
    func send(_ engine: EnginePool, count: Int, concurrency: Int, tag: String = "r") async throws -> [String] {
        try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var done: [String] = []
                    for i in stride(from: worker, to: count, by: concurrency) {
                        _ = try await engine.generate(request("\(tag)-\(i)"))
                        done.append("\(tag)-\(i)")
                    }
                    return done
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    @Test func aSlowServerGetsFewerRequests() async throws {
        let slow = try PoolStandIn(delay: 0.4), fast = try PoolStandIn()
        let engine = try await pool([slow, fast])
        let done = try await Fixtures.within(120) { try await send(engine, count: 24, concurrency: 4) }
        #expect(done.count == 24)
        let (s, f) = (try await slow.requestCount(), try await fast.requestCount())
        #expect(s + f == 24)
        #expect(s < f, "the slow server took \(s) requests, the fast one \(f)")
        let reports = engine.endpointReports()
        #expect(reports.map(\.requests) == [s, f])
        #expect(reports.allSatisfy { $0.failures == 0 && $0.state == "healthy" })
    }

    @Test func aKilledServersRequestsMoveToTheOthers() async throws {
        let doomed = try PoolStandIn(delay: 1), b = try PoolStandIn(delay: 0.05), c = try PoolStandIn(delay: 0.05)
        let engine = try await pool([doomed, b, c])
        let run = Task { try await send(engine, count: 30, concurrency: 6) }
        // Kill it once it holds a request (it answers after 1 s, so that request is in flight).
        while try await doomed.requestCount() == 0 { try await Task.sleep(for: .milliseconds(20)) }
        doomed.kill()
        let done = try await Fixtures.within(120) { try await run.value }
        #expect(Set(done).count == 30)
        // No request went twice to one server: the one in flight on the dead server went to another.
        for server in [b, c] {
            let texts = try await server.texts()
            #expect(Set(texts).count == texts.count)
        }
        let report = engine.endpointReports()[0]
        #expect(report.ejections == 1)
        #expect(report.failures >= 1)
        #expect(report.state == "cooling down")
    }

    @Test func aServerThatComesBackIsUsedAfterItsCoolDown() async throws {
        let flaky = try PoolStandIn(), steady = try PoolStandIn()
        let engine = try await pool([flaky, steady], coolDown: .milliseconds(200))
        flaky.kill()
        // The first request goes to the first server, finds it dead, and is answered by the other.
        _ = try await engine.generate(request("while down"))
        #expect(engine.endpointReports()[0].ejections == 1)
        #expect(try await steady.requestCount() == 1)
        try flaky.start()
        // Requests keep coming; once the cool-down is over, one of them probes the server and finds it back.
        var sent = 0
        while try await flaky.requestCount() == 0, sent < 200 {
            _ = try await engine.generate(request("after \(sent)"))
            sent += 1
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await flaky.requestCount() >= 1)
        let report = engine.endpointReports()[0]
        #expect(report.state == "healthy")
        #expect(report.ejections == 1)
    }

    @Test func cancellingARequestCancelsItsExchangeAndBlamesNoServer() async throws {
        let slow = try PoolStandIn(delay: 30), other = try PoolStandIn()
        let engine = try await pool([slow, other])
        let call = Task { try await engine.generate(request("cancelled")) }
        while try await slow.requestCount() == 0 { try await Task.sleep(for: .milliseconds(20)) }
        call.cancel()
        let result = try await Fixtures.within(20) { await call.result }
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(try await other.requestCount() == 0)  // not sent elsewhere
        let report = engine.endpointReports()[0]
        #expect(report.failures == 0 && report.ejections == 0 && report.state == "healthy")
    }

    @Test func noServerLeftIsEngineUnavailable() async throws {
        let a = try PoolStandIn(), b = try PoolStandIn()
        let engine = try await pool([a, b])
        a.kill()
        b.kill()
        let error = await #expect(throws: EngineError.self) { try await engine.generate(request("nobody")) }
        guard case .unreachable(_, let url, let reason)? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(url.contains(a.url) && url.contains(b.url))
        #expect(reason.contains("no server of the pool is left"))
        #expect(engine.endpointReports().map(\.ejections) == [1, 1])
        // Both cooling down now: the next request fails at once, without sending anything.
        await #expect(throws: EngineError.self) { try await engine.generate(request("still nobody")) }
        #expect(engine.endpointReports().map(\.requests) == [1, 1])
    }

    @Test func aPoolWithEveryServerDownAtStartIsUnreachable() async throws {
        let a = try PoolStandIn(), b = try PoolStandIn()
        a.kill()
        b.kill()
        let error = await #expect(throws: EngineError.self) { try await pool([a, b]) }
        guard case .unreachable? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
    }

    @Test func aServerDownAtStartJoinsWhenItComesBack() async throws {
        let late = try PoolStandIn(), early = try PoolStandIn()
        late.kill()
        let engine = try await pool([late, early], coolDown: .milliseconds(100))
        #expect(engine.endpointReports()[0].state == "cooling down")
        try late.start()
        var sent = 0
        while try await late.requestCount() == 0, sent < 200 {
            _ = try await engine.generate(request("r\(sent)"))
            sent += 1
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await late.requestCount() >= 1)
        #expect(engine.endpointReports()[0].state == "healthy")
    }

    @Test func aRefusedKeyIsFatalAndNotTriedElsewhere() async throws {
        let refusing = try PoolStandIn(mode: .refuseChat), fine = try PoolStandIn()
        let engine = try await pool([refusing, fine])
        let error = await #expect(throws: EngineError.self) { try await engine.generate(request("key")) }
        guard case .httpStatus(_, 401, _)? = error else {
            Issue.record("expected HTTP 401, got \(String(describing: error))")
            return
        }
        #expect(try await fine.requestCount() == 0)
        #expect(engine.endpointReports()[0].ejections == 0)
    }

    @Test func aRefusedKeyAtStartStopsThePool() async throws {
        let fine = try PoolStandIn(), refusing = try PoolStandIn(mode: .refuseAll)
        let error = await #expect(throws: EngineError.self) { try await pool([fine, refusing]) }
        guard case .httpStatus(_, 401, _)? = error else {
            Issue.record("expected HTTP 401, got \(String(describing: error))")
            return
        }
    }

    @Test func anAnswerAgainstTheSchemaIsNotTriedElsewhere() async throws {
        let wrong = try PoolStandIn(mode: .invalidOutput), fine = try PoolStandIn()
        let engine = try await pool([wrong, fine])
        let strict = EngineRequest(parts: [.text("strict")], schema: ["type": "object", "required": ["ok"]], maxTokens: 16)
        let error = await #expect(throws: EngineError.self) { try await engine.generate(strict) }
        guard case .invalidOutput(_, _, _, let attempts)? = error else {
            Issue.record("expected invalidOutput, got \(String(describing: error))")
            return
        }
        #expect(attempts == 2)
        #expect(try await wrong.requestCount() == 2)  // the answer and the one repair, both from the same server
        #expect(try await fine.requestCount() == 0)
        #expect(engine.endpointReports()[0].state == "healthy")
    }

    @Test func serverErrorsMoveTheRequestAfterTheServersOwnRetries() async throws {
        let failing = try PoolStandIn(mode: .serverError), fine = try PoolStandIn()
        let engine = try await pool([failing, fine])
        _ = try await engine.generate(request("5xx"))
        #expect(try await failing.requestCount() == 2)  // the request and its one retry (maxRetries 1)
        #expect(try await fine.requestCount() == 1)
        #expect(engine.endpointReports()[0].ejections == 1)
    }

    @Test func serversWithDifferentModelsAreRefusedByName() async throws {
        let a = try PoolStandIn(model: "gemma-3n"), b = try PoolStandIn(model: "llama-3")
        let error = await #expect(throws: EnginePoolError.self) { try await pool([a, b]) }
        #expect(error?.description.contains(b.url) == true)
        #expect(error?.description.contains("llama-3") == true)
        // With the model named, the server that lacks it is the one named.
        let named = await #expect(throws: EnginePoolError.self) {
            try await EnginePool.connect(configurations: [config(a, model: "llama-3"), config(b, model: "llama-3")])
        }
        #expect(named?.description.contains(a.url) == true)
    }

    @Test func theIdentityIsTheSingleServers() async throws {
        let a = try PoolStandIn(), b = try PoolStandIn(), c = try PoolStandIn()
        let single = try await OpenAIEngine.connect(configuration: config(a))
        let forward = try await pool([a, b, c])
        let backward = try await pool([c, b, a])
        #expect(forward.identity.key == single.identity.key)
        #expect(backward.identity.key == single.identity.key)
        #expect(forward.identity.models == single.identity.models)
    }

    @Test func settingsWithSeveralURLsMakeAPoolAndOneURLAPlainEngine() async throws {
        let a = try PoolStandIn(), b = try PoolStandIn()
        var settings = EngineSettings(backend: .openai, preset: .generic, baseURLs: [a.url, b.url])
        #expect(try await settings.makeEngine() is EnginePool)
        settings.baseURLs = [a.url]
        #expect(try await settings.makeEngine() is OpenAIEngine)
    }
}
