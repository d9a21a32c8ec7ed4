import Foundation

/// Plans a request against an engine's context before it is sent: images at the engine's per-image cost (Gemma 3n:
/// 256), audio per second (6.25), text by the engine's tokenizer where it has one. Callers use `check` before
/// sending and `split` to pack lists of chunks into requests that fit, so a request that cannot fit is never sent.
public struct TokenPlanner: Sendable {
    public let capabilities: EngineCapabilities
    public let counter: any TextTokenCounter
    /// Tokens the chat template adds per message/part (role markers, separators).
    public var overheadPerPart: Int = 6
    /// Fixed template overhead per request (BOS, assistant prefix).
    public var overheadPerRequest: Int = 16

    public init(capabilities: EngineCapabilities, counter: any TextTokenCounter = EstimatingTokenCounter()) {
        self.capabilities = capabilities
        self.counter = counter
    }

    /// The cost breakdown of one request.
    public struct Plan: Sendable, Hashable, CustomStringConvertible {
        public var textTokens: Int
        public var imageTokens: Int
        public var audioTokens: Int
        public var overheadTokens: Int
        /// The request's `maxTokens`, reserved for the answer.
        public var outputTokens: Int
        public var contextTokens: Int
        /// True when text was counted by the engine's tokenizer.
        public var exact: Bool

        public var promptTokens: Int { textTokens + imageTokens + audioTokens + overheadTokens }
        public var totalTokens: Int { promptTokens + outputTokens }
        public var fits: Bool { totalTokens <= contextTokens }
        public var description: String {
            "prompt \(promptTokens) (text \(textTokens)\(exact ? "" : "~"), images \(imageTokens), audio \(audioTokens), template \(overheadTokens)) + output \(outputTokens) = \(totalTokens) of \(contextTokens)"
        }
    }

    /// Costs a request. Throws only if the tokenizer fails in a way that has no fallback.
    public func plan(_ request: EngineRequest) async throws -> Plan {
        var text = 0
        var images = 0
        var audio = 0.0
        if let system = request.system { text += try await counter.count(system) }
        for part in request.parts {
            switch part {
            case .text(let t): text += try await counter.count(t)
            case .image: images += capabilities.tokensPerImage
            case .audio(let a): audio += (a.seconds * capabilities.tokensPerAudioSecond).rounded(.up)
            }
        }
        let overhead = overheadPerRequest + overheadPerPart * (request.parts.count + (request.system == nil ? 0 : 1))
        return Plan(textTokens: text, imageTokens: images, audioTokens: Int(audio), overheadTokens: overhead,
                    outputTokens: request.maxTokens, contextTokens: capabilities.contextTokens, exact: counter.isExact)
    }

    /// True when the request fits the context and the engine's per-request limits.
    public func fits(_ request: EngineRequest) async throws -> Bool {
        do { _ = try await check(request); return true } catch let e as EngineError {
            if case .doesNotFit = e { return false }
            throw e
        }
    }

    /// Throws `unsupportedInput`/`invalidRequest` for inputs the engine does not take, `doesNotFit` when over
    /// budget; returns the plan otherwise.
    @discardableResult
    public func check(_ request: EngineRequest) async throws -> Plan {
        try checkInputs(request)
        let p = try await plan(request)
        guard p.fits else {
            throw EngineError.doesNotFit(needed: p.totalTokens, available: p.contextTokens, detail: p.description)
        }
        return p
    }

    /// Input kinds and per-request limits, without counting text.
    public func checkInputs(_ request: EngineRequest) throws {
        let n = request.imageCount
        if n > 0, !capabilities.images { throw EngineError.unsupportedInput("images") }
        if n > capabilities.maxImagesPerRequest {
            throw EngineError.unsupportedInput("\(n) images in one request (at most \(capabilities.maxImagesPerRequest))")
        }
        let clips = request.audioClips
        if !clips.isEmpty, !capabilities.audio { throw EngineError.unsupportedInput("audio") }
        for clip in clips where clip.seconds > capabilities.maxAudioSecondsPerClip + 0.01 {
            throw EngineError.invalidRequest(
                "an audio clip of \(String(format: "%.1f", clip.seconds)) s is longer than the engine's \(Int(capabilities.maxAudioSecondsPerClip)) s per clip; cut it with Media's audio chunking")
        }
        if request.maxTokens <= 0 { throw EngineError.invalidRequest("maxTokens must be positive") }
    }

    /// Prompt tokens left for content after `base` (its system text, parts and reserved output).
    public func available(after base: EngineRequest) async throws -> Int {
        let p = try await plan(base)
        return p.contextTokens - p.totalTokens
    }

    /// Packs `items` in order into groups such that `base` plus each group's parts fits the context and the
    /// per-request image limit. The map step of a map-reduce: build one request per group.
    /// Throws `doesNotFit` naming the item when one item alone is too big (cut it smaller first).
    public func split<Item: Sendable>(
        _ items: [Item], base: EngineRequest, parts: (Item) -> [EngineRequest.Part]
    ) async throws -> [[Item]] {
        try checkInputs(base)
        let room = try await available(after: base)
        var groups: [[Item]] = []
        var current: [Item] = []
        var used = 0
        var usedImages = base.imageCount
        for (index, item) in items.enumerated() {
            let itemParts = parts(item)
            var cost = 0
            var images = 0
            for part in itemParts {
                cost += overheadPerPart
                switch part {
                case .text(let t): cost += try await counter.count(t)
                case .image: cost += capabilities.tokensPerImage; images += 1
                case .audio(let a): cost += Int((a.seconds * capabilities.tokensPerAudioSecond).rounded(.up))
                }
            }
            var probe = base
            probe.parts = itemParts
            try checkInputs(probe)
            if cost > room || base.imageCount + images > capabilities.maxImagesPerRequest {
                throw EngineError.doesNotFit(
                    needed: cost, available: max(room, 0),
                    detail: "item \(index) alone needs \(cost) tokens and \(images) images, next to a base request that leaves \(room)")
            }
            if !current.isEmpty, used + cost > room || usedImages + images > capabilities.maxImagesPerRequest {
                groups.append(current)
                current = []
                used = 0
                usedImages = base.imageCount
            }
            current.append(item)
            used += cost
            usedImages += images
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
