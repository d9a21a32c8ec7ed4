import Foundation
import Testing
@testable import Engine

@Suite struct WireTests {
    @Test func wavHeaderAndSamples() {
        let wav = WAV.encode(samples: [0, 1, -1, 0.5])
        #expect(wav.count == 44 + 8)
        #expect(String(decoding: wav.prefix(4), as: UTF8.self) == "RIFF")
        #expect(String(decoding: wav[8..<12], as: UTF8.self) == "WAVE")
        let rate = wav[24..<28].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        #expect(UInt32(littleEndian: rate) == 16_000)
        let second = wav[46..<48].withUnsafeBytes { $0.loadUnaligned(as: Int16.self) }
        #expect(Int16(littleEndian: second) == 32767)
    }

    @Test func mixedRequestKeepsPartOrderAndEncodesMediaAsDataURIs() throws {
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(baseURL: "http://127.0.0.1:9/v1", model: "gemma-3n", preset: .vllm, apiKey: "sk-secret"))
        defer { Task { await engine.shutdown() } }
        let request = EngineRequest(system: "sys", parts: [
            .text("before"), .image(EngineImage(jpeg: Data([0xFF, 0xD8, 0xFF]), time: 12.5)),
            .audio(EngineAudio(samples: [0, 0.1])), .text(#"after "quoted""#),
        ], schema: summarySchema)
        let messages = try engine.messages(for: request)
        let json = try JSONValue.parse(JSONEncoder().encode(ChatWire.Request(model: "m", messages: messages, max_tokens: 5, temperature: 0, seed: 1)))
        let content = try #require(json["messages"]?[1]?["content"]?.arrayValue)
        #expect(content.map { $0["type"]?.stringValue } == ["text", "text", "image_url", "input_audio", "text"])
        #expect(content[2]["image_url"]?["url"]?.stringValue == "data:image/jpeg;base64,/9j/")
        #expect(content[3]["input_audio"]?["format"]?.stringValue == "wav")
        #expect(content[4]["text"]?.stringValue == #"after "quoted""#)
        // The key goes in a header only.
        #expect(!engine.configuration.description.contains("sk-secret"))
    }

    @Test func textOnlyServersRefuseMediaAndGetTheSchemaInWords() throws {
        var caps = ServerPreset.ollama.capabilities
        caps.jsonSchema = false
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(preset: .ollama, capabilities: caps, apiKey: nil))
        defer { Task { await engine.shutdown() } }
        #expect(throws: EngineError.unsupportedInput("images")) {
            try engine.messages(for: EngineRequest(parts: [.image(EngineImage(jpeg: Data()))]))
        }
        let m = try engine.messages(for: EngineRequest(parts: [.text("hi")], schema: ["type": "object"]))
        let system = try JSONValue(encoding: m[0].content)
        #expect(system.stringValue?.contains(#"{"type":"object"}"#) == true)
    }

    @Test func apiKeyComesFromTheEnvironment() {
        #expect(OpenAIConfiguration.apiKeyFromEnvironment(["OPENAI_API_KEY": "b", "RECAP_API_KEY": "a"]) == "a")
        #expect(OpenAIConfiguration.apiKeyFromEnvironment(["OPENAI_API_KEY": " b "]) == "b")
        #expect(OpenAIConfiguration.apiKeyFromEnvironment([:]) == nil)
    }

    @Test func retryAfterInSecondsOrAsADate() throws {
        #expect(HTTPTransport.retryAfter("2") == .seconds(2))
        #expect(HTTPTransport.retryAfter(nil) == nil)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        let later = try #require(HTTPTransport.retryAfter(f.string(from: Date().addingTimeInterval(30))))
        #expect(later > .seconds(25) && later <= .seconds(30))
    }

    @Test func identityKeyIsStableAndIgnoresEndpoint() {
        let a = EngineIdentity(backend: "local", models: ["speech": "whisper-base", "language": "SmolLM2"], endpoint: "x")
        let b = EngineIdentity(backend: "local", models: ["language": "SmolLM2", "speech": "whisper-base"], endpoint: "y")
        #expect(a.key == "local|language=SmolLM2|speech=whisper-base")
        #expect(a.key == b.key)
    }
}

@Suite struct SettingsTests {
    @Test func presetsFollowTheReferenceAndEveryCapabilityCanBeOverridden() {
        #expect(ServerPreset.vllm.capabilities.audio && ServerPreset.vllm.capabilities.images)
        #expect(ServerPreset.vllm.capabilities.contextTokens == 32_768)
        #expect(!ServerPreset.llamaServer.capabilities.audio && ServerPreset.llamaServer.capabilities.images)
        #expect(!ServerPreset.ollama.capabilities.images && !ServerPreset.ollama.capabilities.audio)
        #expect(ServerPreset.allCases.allSatisfy { $0.capabilities.jsonSchema })

        let s = EngineSettings(backend: .openai, preset: .ollama, images: true, audio: true, jsonSchema: false,
                               contextTokens: 16_000, maxImagesPerRequest: 4, maxAudioSecondsPerClip: 10)
        let c = s.openAIConfiguration.capabilities
        #expect(c.images && c.audio && !c.jsonSchema)
        #expect(c.contextTokens == 16_000 && c.maxImagesPerRequest == 4 && c.maxAudioSecondsPerClip == 10)
        #expect(s.openAIConfiguration.baseURL == "http://127.0.0.1:11434/v1")
        #expect(s.openAIConfiguration.serverName == "Ollama")
    }
}
