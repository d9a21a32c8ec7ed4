import Foundation
import Synchronization
import Testing
@testable import Engine

let summarySchemaSmall: JSONValue = [
    "type": "object", "additionalProperties": false, "required": ["title", "summary", "key_points"],
    "properties": [
        "title": ["type": "string", "maxLength": 80],
        "summary": ["type": "string", "maxLength": 400],
        "key_points": ["type": "array", "maxItems": 3, "items": ["type": "string", "maxLength": 120]],
    ],
]

/// The local engine and the openai backend against a real llama-server running SmolLM2 from Recap's cache.
@Suite struct LocalEngineTests {
    @Test func summaryRequestReturnsSchemaValidJSONGroundedInEvidence() async throws {
        let engine = try await SharedEngine.shared.local()
        let card = try TextCard.jpeg("RIVER DELTAS")
        let request = EngineRequest(
            system: "You summarise videos from their transcript and measurements. Answer in JSON.",
            parts: [
                .text("Transcript: Welcome to this short lecture about river deltas. A delta forms where a slow river meets the sea."),
                .image(EngineImage(jpeg: card, time: 3, label: "Scene 1",
                                   facts: FrameFacts(brightness: 0.8, dominantColors: ["white"], motion: 0, sceneScore: 1))),
                .text("Write a title, a one-sentence summary and up to three key points."),
            ],
            schema: summarySchemaSmall, maxTokens: 200, temperature: 0)
        let plan = try await engine.planner.check(request)
        #expect(plan.exact)  // counted by llama-server's /tokenize
        let r = try await engine.generate(request)
        #expect(JSONSchemaValidator(schema: summarySchemaSmall).violations(of: r.json).isEmpty)
        #expect(r.json["title"]?.stringValue?.isEmpty == false)
        #expect(r.usage.promptTokens > 50)
        #expect(r.usage.calls >= 1)
        #expect(r.timings.generationTokensPerSecond ?? 0 > 0)
        // The image reached the model as labelled measurements, with the card's text read by OCR.
        let ocr = try #require(r.evidence.first { $0.kind == .ocr })
        #expect(ocr.text.hasPrefix("[OCR]"))
        #expect(ocr.text.contains("RIVER") && ocr.text.contains("DELTAS"))
        #expect(r.evidence.contains { $0.kind == .pixelFacts && $0.text.contains("brightness 0.80") })
        #expect(r.identity.backend == "local")
        #expect(r.identity.models["language"] == "SmolLM2-135M-Instruct.Q4_1")
        #expect(r.identity.models["ocr"]?.hasPrefix("tesseract-") == true)
    }

    @Test func requestsThatCannotFitAreNeverSent() async throws {
        let engine = try await SharedEngine.shared.local()
        let huge = String(repeating: "river delta sediment ", count: 2000)  // ≈ 8K tokens > 4096
        await #expect {
            try await engine.generate(EngineRequest(parts: [.text(huge)], schema: summarySchemaSmall, maxTokens: 100))
        } throws: { error in
            guard case EngineError.doesNotFit(let needed, let available, _) = error else { return false }
            return needed > 4096 && available == 4096
        }
    }

    @Test func openAIBackendTalksToLlamaServer() async throws {
        let url = try await SharedEngine.shared.baseURL()
        let engine = try await OpenAIEngine.connect(configuration: OpenAIConfiguration(
            baseURL: url, preset: .llamaServer, capabilities: ServerPreset.llamaServer.capabilities, apiKey: nil))
        #expect(engine.identity.models["language"]?.isEmpty == false)  // asked /v1/models
        let r = try await engine.generate(EngineRequest(
            parts: [.text("Give a colour name.")],
            schema: ["type": "object", "required": ["colour"], "properties": ["colour": ["type": "string", "maxLength": 30]]],
            maxTokens: 30, temperature: 0))
        #expect(r.json["colour"]?.stringValue != nil)
        #expect(r.timings.serverPromptMs != nil)
    }

    @Test func truncatedOutputGoesThroughRepairThenATypedError() async throws {
        let url = try await SharedEngine.shared.baseURL()
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(baseURL: url, preset: .llamaServer, apiKey: nil))
        // 24 tokens cannot hold three required members: the answer is cut, closing it leaves required
        // properties missing (or nothing, if the cut falls inside llama-server's optional ```json fence),
        // the one re-ask is cut again, and the caller gets a typed error.
        await #expect {
            try await engine.generate(EngineRequest(
                parts: [.text("Describe a river delta in detail.")], schema: summarySchemaSmall, maxTokens: 24))
        } throws: { error in
            guard case EngineError.invalidOutput(let reason, let truncated, _, let attempts) = error else { return false }
            return truncated && attempts == 2
                && (reason.contains("missing required property") || reason.contains("the answer was empty"))
        }
        // Without required properties the same cut answer is closed locally and accepted.
        let optional: JSONValue = ["type": "object", "properties": ["notes": ["type": "string"], "more": ["type": "string"]]]
        let r = try await engine.generate(EngineRequest(
            parts: [.text("Write notes and more about deltas.")], schema: optional, maxTokens: 12))
        #expect(r.finishReason == "length" ? r.repair != .none : true)
        #expect(JSONSchemaValidator(schema: optional).isValid(r.json))
    }

    @Test func cancellingTheTaskCancelsTheRequest() async throws {
        let url = try await SharedEngine.shared.baseURL()
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(baseURL: url, preset: .llamaServer, apiKey: nil))
        let long = Task {
            try await engine.generate(EngineRequest(parts: [.text("Write a very long story about rivers.")],
                                                    schema: nil, maxTokens: 3000, temperature: 1))
        }
        // Cancel while the request is in flight: a short answer can finish within half a second.
        try await Task.sleep(for: .milliseconds(150))
        long.cancel()
        let outcome = try await Fixtures.within(30) { await long.result }
        #expect(throws: CancellationError.self) { try outcome.get() }
        // The server is still usable afterwards.
        let r = try await engine.generate(EngineRequest(parts: [.text("Say ok.")], schema: ["type": "object"], maxTokens: 20))
        #expect(r.json.objectValue != nil)
    }
}

@Suite struct FailurePathTests {
    @Test func serverNotRunningIsAClearTypedError() async throws {
        let port = try FreePort.find()
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(
            baseURL: "http://127.0.0.1:\(port)/v1", model: "gemma-3n", preset: .vllm, apiKey: nil, maxRetries: 1,
            initialBackoff: .milliseconds(50)))
        let error = await #expect(throws: EngineError.self) {
            try await Fixtures.within(30) {
                try await engine.generate(EngineRequest(parts: [.text("hi")], maxTokens: 5))
            }
        }
        guard case .unreachable(let server, let url, _) = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(server == "vLLM")
        #expect(url == "http://127.0.0.1:\(port)/v1")
        #expect(error?.description.contains("Is vLLM running at http://127.0.0.1:\(port)/v1?") == true)
    }

    @Test func serverKilledMidRequestGivesATypedErrorAndTheSupervisorRestartsIt() async throws {
        let supervisor = LlamaServerSupervisor(options: try Fixtures.serverOptions(restarts: 2))
        let url = try await supervisor.ensureRunning()
        let firstPID = try #require(await supervisor.pid)
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(
            baseURL: url, preset: .llamaServer, apiKey: nil, maxRetries: 0, serverName: "the local llama-server"))
        // The request must still be in flight when the server dies. The schema (which the llama-server preset
        // always sends) asks for a story of 2,000 characters or more, so the answer takes several seconds; should
        // one still end within the first second, that attempt proves nothing and is made again (3 tries at most).
        let story: JSONValue = ["type": "object", "required": ["story"],
                                "properties": ["story": ["type": "string", "minLength": 2000]]]
        var inFlight: Task<EngineResponse, any Error>? = nil
        for seed in [42, 7, 1234] {
            let ended = Mutex(false)
            let attempt = Task {
                defer { ended.withLock { $0 = true } }
                return try await engine.generate(EngineRequest(parts: [.text("Write a very long story about rivers.")],
                                                               schema: story, maxTokens: 3000, temperature: 1, seed: seed))
            }
            try await Task.sleep(for: .seconds(1))
            let early = ended.withLock { $0 }
            if !early { inFlight = attempt; break }
        }
        let request = try #require(inFlight, "three stories in a row ended within a second")
        kill(firstPID, SIGKILL)
        let outcome = try await Fixtures.within(60) { await request.result }
        do {
            _ = try outcome.get()
            Issue.record("a request to a killed server succeeded")
        } catch let e as EngineError {
            switch e {
            case .connectionLost, .unreachable: break
            default: Issue.record("unexpected error \(e)")
            }
        }
        // Supervision: a new llama-server, same URL, answering. The supervisor learns of the death from waitpid,
        // which may come a moment after the request saw the connection drop: wait for that restart first.
        let again = try await Fixtures.within(120) { () async throws -> String in
            while await supervisor.restarts == 0 { try await Task.sleep(for: .milliseconds(50)) }
            return try await supervisor.ensureRunning()
        }
        #expect(again == url)
        let secondPID = try #require(await supervisor.pid)
        #expect(secondPID != firstPID)
        #expect(await supervisor.restarts == 1)
        let r = try await engine.generate(EngineRequest(parts: [.text("Say ok.")], schema: ["type": "object"], maxTokens: 20))
        #expect(r.json.objectValue != nil)
        await supervisor.stop()
        #expect(!Fixtures.isAlive(secondPID))
    }
}
