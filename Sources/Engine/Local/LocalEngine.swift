import Foundation

/// The embedded default, offline on a CPU: a supervised llama-server with a small GGUF (SmolLM2-135M) for
/// language; whisper.cpp (through `SpeechToText`) for audio parts, which reach the model as a labelled
/// transcript; and for images, without a vision model, OCR text and pixel measurements, labelled as such.
/// Given an mmproj (`--mmproj`), the GGUF also sees the images themselves.
public final class LocalEngine: Engine {
    public struct Options: Sendable {
        public var server: LlamaServerOptions
        /// Turns audio parts into text. Nil: the engine does not accept audio.
        public var speech: (any SpeechToText)?
        /// Reads on-screen text. Nil: images get pixel facts (and the caller's `ocrText`) only.
        public var ocr: TextRecognizer?
        /// Upper bound of the evidence text per image, in tokens (planning uses it as the image's cost).
        public var tokensPerImageEvidence: Int
        /// Upper bound of transcript tokens per audio second (fast speech ≈ 3.5).
        public var tokensPerAudioSecond: Double
        /// Stop llama-server and exit on SIGINT/SIGTERM/SIGHUP. Commands with their own graceful shutdown pass
        /// false and call `shutdown()`; the child still dies with Recap either way.
        public var handleSignals: Bool

        public init(server: LlamaServerOptions, speech: (any SpeechToText)? = nil, ocr: TextRecognizer? = nil,
                    tokensPerImageEvidence: Int = 160, tokensPerAudioSecond: Double = 4.5, handleSignals: Bool = true) {
            self.server = server
            self.speech = speech
            self.ocr = ocr
            self.tokensPerImageEvidence = tokensPerImageEvidence
            self.tokensPerAudioSecond = tokensPerAudioSecond
            self.handleSignals = handleSignals
        }
    }

    public let options: Options
    public let capabilities: EngineCapabilities
    public let identity: EngineIdentity
    public let planner: TokenPlanner
    public let supervisor: LlamaServerSupervisor
    private let client: LocalClient
    /// Whether the GGUF has an mmproj: images are then sent as pixels too.
    private var sees: Bool { options.server.mmproj != nil }

    /// Makes the engine; llama-server starts on first use (or `start()`).
    public init(options: Options) {
        self.options = options
        let sees = options.server.mmproj != nil
        capabilities = EngineCapabilities(
            images: true, audio: options.speech != nil, jsonSchema: true, contextTokens: options.server.contextTokens,
            maxImagesPerRequest: 16, maxAudioSecondsPerClip: 30,
            // The planner costs what the model will actually read: the evidence text (plus 256 per image when an
            // mmproj makes it see, Gemma 3n's cost) and the transcript.
            tokensPerImage: options.tokensPerImageEvidence + (sees ? 256 : 0),
            tokensPerAudioSecond: options.tokensPerAudioSecond,
            imagesAsEvidence: !sees, audioAsTranscript: true)
        var models = ["language": Self.modelName(options.server.model)]
        if let mm = options.server.mmproj { models["vision"] = Self.modelName(mm) }
        if let s = options.speech { models["speech"] = s.modelName }
        if let o = options.ocr { models["ocr"] = o.modelName }
        identity = EngineIdentity(backend: "local", models: models)
        supervisor = LlamaServerSupervisor(options: options.server)
        client = LocalClient(supervisor: supervisor, capabilities: capabilities, sees: sees)
        planner = TokenPlanner(capabilities: capabilities, counter: LocalTokenCounter(client: client))
        if options.handleSignals { ChildProcessRegistry.shared.installSignalHandlers() }
    }

    /// Starts llama-server now and waits until it is healthy (otherwise the first request does).
    public func start() async throws {
        _ = try await client.engine()
    }

    public func generate(_ request: EngineRequest) async throws -> EngineResponse {
        let started = ContinuousClock.now
        try planner.checkInputs(request)
        let evidenceStart = ContinuousClock.now
        let (converted, evidence) = try await convert(request)
        let evidenceSeconds = (ContinuousClock.now - evidenceStart).seconds
        // Plan what the model will read, after conversion.
        try await planner.check(converted)
        var response = try await client.generate(converted, evidence: evidence, evidenceSeconds: evidenceSeconds, started: started)
        response.identity = identity
        return response
    }

    public func shutdown() async {
        await client.shutdown()
    }

    /// Replaces images and audio with labelled evidence text (keeping images too when the model sees).
    func convert(_ request: EngineRequest) async throws -> (EngineRequest, [MeasuredEvidence]) {
        var parts: [EngineRequest.Part] = []
        var evidence: [MeasuredEvidence] = []
        let ocrChars = max(40, (options.tokensPerImageEvidence - 60) * 3)
        var hasMeasured = false
        for part in request.parts {
            switch part {
            case .text:
                parts.append(part)
            case .image(let img):
                try Task.checkCancellation()
                hasMeasured = true
                if sees { parts.append(part) }
                var lines: [String] = []
                var ocrText = img.ocrText
                if ocrText == nil, let ocr = options.ocr {
                    ocrText = try img.gray.map { try ocr.recognize($0).text } ?? ocr.recognize(jpeg: img.jpeg).text
                }
                if let t = ocrText {
                    let line = EvidenceText.ocr(t, time: img.time, maxCharacters: ocrChars)
                    lines.append(line)
                    evidence.append(MeasuredEvidence(kind: .ocr, time: img.time, text: line))
                }
                if let f = img.facts {
                    let line = EvidenceText.pixels(f, time: img.time)
                    lines.append(line)
                    evidence.append(MeasuredEvidence(kind: .pixelFacts, time: img.time, text: line))
                }
                if lines.isEmpty { lines.append("[PIXELS] frame\(EvidenceText.timeLabel(img.time)): no measurements available") }
                if let label = img.label { lines.insert("\(label):", at: 0) }
                parts.append(.text(lines.joined(separator: "\n")))
            case .audio(let clip):
                try Task.checkCancellation()
                hasMeasured = true
                guard let speech = options.speech else { throw EngineError.unsupportedInput("audio (no speech model)") }
                let words = try await speech.transcribe(samples: clip.samples)
                let line = EvidenceText.speech(words, start: clip.start, seconds: clip.seconds, model: speech.modelName)
                evidence.append(MeasuredEvidence(kind: .transcript, time: clip.start, text: line))
                parts.append(.text(line))
            }
        }
        var out = request
        out.parts = parts
        if hasMeasured, !sees {
            out.system = [EvidenceText.preamble, request.system].compactMap { $0 }.joined(separator: "\n\n")
        }
        return (out, evidence)
    }

    /// "SmolLM2-135M-Instruct.Q4_1" from ".../SmolLM2-135M-Instruct.Q4_1.gguf".
    static func modelName(_ path: String) -> String {
        let base = (path as NSString).lastPathComponent
        return base.hasSuffix(".gguf") ? String(base.dropLast(5)) : base
    }
}

/// The OpenAI-compatible client bound to the supervisor's current URL; rebuilt if a restart moved the port.
actor LocalClient {
    let supervisor: LlamaServerSupervisor
    let capabilities: EngineCapabilities
    let sees: Bool
    private var current: OpenAIEngine?
    private var closed = false

    init(supervisor: LlamaServerSupervisor, capabilities: EngineCapabilities, sees: Bool) {
        self.supervisor = supervisor
        self.capabilities = capabilities
        self.sees = sees
    }

    /// The client for the running server, starting it if needed.
    func engine() async throws -> OpenAIEngine {
        if closed { throw EngineError.serverFailed(reason: "the engine was shut down", logTail: "") }
        let url = try await supervisor.ensureRunning()
        if let c = current, c.configuration.baseURL == url { return c }
        if let old = current { await old.shutdown() }
        var caps = capabilities
        caps.images = sees
        caps.audio = false
        let e = OpenAIEngine(configuration: OpenAIConfiguration(
            baseURL: url, model: "", preset: .llamaServer, capabilities: caps, apiKey: nil,
            connectTimeout: .seconds(2), requestTimeout: .seconds(600), maxRetries: 2,
            initialBackoff: .milliseconds(300), serverName: "the local llama-server"))
        current = e
        return e
    }

    /// Sends a converted (text, or text + images when it sees) request. If llama-server died mid-request, the
    /// supervisor restarts it and the request is tried once more.
    nonisolated func generate(_ request: EngineRequest, evidence: [MeasuredEvidence], evidenceSeconds: Double,
                              started: ContinuousClock.Instant) async throws -> EngineResponse {
        do {
            return try await engine().generate(request, evidence: evidence, evidenceSeconds: evidenceSeconds, started: started)
        } catch let e as EngineError {
            switch e {
            case .unreachable, .connectionLost:
                return try await engine().generate(request, evidence: evidence, evidenceSeconds: evidenceSeconds, started: started)
            default:
                throw e
            }
        }
    }

    func shutdown() async {
        closed = true
        if let c = current { await c.shutdown() }
        current = nil
        await supervisor.stop()
    }
}

/// Exact counts from llama-server's `/tokenize`, starting it if needed.
struct LocalTokenCounter: TextTokenCounter {
    let client: LocalClient
    var isExact: Bool { true }
    func count(_ text: String) async throws -> Int {
        try await client.engine().planner.counter.count(text)
    }
}
