import Foundation
import Testing
@testable import Engine

/// A counter with known counts, so the planner's arithmetic can be checked exactly.
struct WordCounter: TextTokenCounter {
    var isExact: Bool { true }
    func count(_ text: String) async throws -> Int { text.split(separator: " ").count }
}

private let gemma = EngineCapabilities(images: true, audio: true, jsonSchema: true, contextTokens: 32_768,
                                       maxImagesPerRequest: 16, maxAudioSecondsPerClip: 30)

@Suite struct PlannerTests {
    @Test func imagesAudioAndTextAddUp() async throws {
        var planner = TokenPlanner(capabilities: gemma, counter: WordCounter())
        planner.overheadPerPart = 0
        planner.overheadPerRequest = 0
        let request = EngineRequest(
            system: "be brief", parts: [
                .text("one two three"),
                .image(EngineImage(jpeg: Data())),
                .image(EngineImage(jpeg: Data())),
                .audio(EngineAudio(samples: [Float](repeating: 0, count: 16_000 * 10))),
            ], maxTokens: 100)
        let plan = try await planner.plan(request)
        #expect(plan.textTokens == 5)
        #expect(plan.imageTokens == 512)
        #expect(plan.audioTokens == 63)  // 10 s × 6.25 = 62.5, rounded up
        #expect(plan.promptTokens == 580)
        #expect(plan.totalTokens == 680)
        #expect(plan.fits)
        #expect(plan.exact)
    }

    @Test func gemmaContextHoldsAtMost127ImagesWithNoText() async throws {
        var caps = gemma
        caps.maxImagesPerRequest = 1000
        var planner = TokenPlanner(capabilities: caps, counter: WordCounter())
        planner.overheadPerPart = 0
        planner.overheadPerRequest = 0
        let images = [EngineRequest.Part](repeating: .image(EngineImage(jpeg: Data())), count: 128)
        #expect(try await planner.fits(EngineRequest(parts: Array(images.prefix(127)), maxTokens: 1)))
        #expect(try await !planner.fits(EngineRequest(parts: images, maxTokens: 1)))
    }

    @Test func checkRejectsOverBudgetWithTypedError() async throws {
        let small = EngineCapabilities(images: false, audio: false, jsonSchema: true, contextTokens: 100)
        let planner = TokenPlanner(capabilities: small, counter: WordCounter())
        let words = Array(repeating: "w", count: 200).joined(separator: " ")
        await #expect {
            try await planner.check(EngineRequest(parts: [.text(words)], maxTokens: 10))
        } throws: { error in
            guard case EngineError.doesNotFit(let needed, let available, _) = error else { return false }
            return needed > 200 && available == 100
        }
    }

    @Test func inputsTheEngineLacksAreRefusedBeforeCounting() async throws {
        let textOnly = EngineCapabilities(images: false, audio: false, jsonSchema: true, contextTokens: 8192)
        let planner = TokenPlanner(capabilities: textOnly)
        #expect(throws: EngineError.unsupportedInput("images")) {
            try planner.checkInputs(EngineRequest(parts: [.image(EngineImage(jpeg: Data()))]))
        }
        let long = EngineAudio(samples: [Float](repeating: 0, count: 16_000 * 31))
        let gemmaPlanner = TokenPlanner(capabilities: gemma)
        #expect(throws: EngineError.self) { try gemmaPlanner.checkInputs(EngineRequest(parts: [.audio(long)])) }
    }

    @Test func splitPacksChunksGreedilyAndEveryGroupFits() async throws {
        let caps = EngineCapabilities(images: true, audio: false, jsonSchema: true, contextTokens: 1000,
                                      maxImagesPerRequest: 2)
        var planner = TokenPlanner(capabilities: caps, counter: WordCounter())
        planner.overheadPerPart = 0
        planner.overheadPerRequest = 0
        let base = EngineRequest(system: "summarise these", parts: [], maxTokens: 200)  // 2 + 200 → room 798
        let chunks = (0..<10).map { i in Array(repeating: "w\(i)", count: 300).joined(separator: " ") }
        let groups = try await planner.split(chunks, base: base) { [.text($0)] }
        #expect(groups.map(\.count) == [2, 2, 2, 2, 2])
        #expect(groups.flatMap { $0 } == chunks)
        for g in groups {
            var r = base
            r.parts = g.map { .text($0) }
            #expect(try await planner.fits(r))
        }
        // The image limit splits too, even when tokens would allow more.
        let frames = (0..<5).map { _ in EngineImage(jpeg: Data()) }
        let imageGroups = try await planner.split(frames, base: base) { [.image($0)] }
        #expect(imageGroups.map(\.count) == [2, 2, 1])
    }

    @Test func splitNamesAnItemTooBigOnItsOwn() async throws {
        let caps = EngineCapabilities(images: false, audio: false, jsonSchema: true, contextTokens: 100)
        let planner = TokenPlanner(capabilities: caps, counter: WordCounter())
        let huge = Array(repeating: "w", count: 500).joined(separator: " ")
        await #expect(throws: EngineError.self) {
            try await planner.split(["small", huge], base: EngineRequest(parts: [], maxTokens: 10)) { [.text($0)] }
        }
    }

    @Test func estimateErrsOnTheSideOfFitting() {
        let e = EstimatingTokenCounter()
        #expect(e.estimate("") == 0)
        // 400 ASCII characters: 100 tokens at 4 chars/token, +20% margin, +1.
        #expect(e.estimate(String(repeating: "abcd", count: 100)) == 121)
        // Non-Latin text costs more per character.
        #expect(e.estimate(String(repeating: "日本語", count: 50)) > e.estimate(String(repeating: "abc", count: 50)))
    }
}
