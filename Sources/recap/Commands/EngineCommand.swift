import ArgumentParser
import Engine
import Foundation

/// `recap engine …`: look at and exercise the multimodal engine on its own.
struct EngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Check or run the multimodal engine on its own.",
        discussion: """
            The engine turns text, frames and audio into JSON. `local` (the default) runs offline: a small \
            llama-server model for language, whisper.cpp for speech, and OCR plus pixel measurements in place of \
            sight. `openai` talks to any OpenAI-compatible server, e.g. vLLM serving Gemma 3n:

              recap engine check
              recap engine check --engine openai --preset vllm --base-url http://gpu-box:8000/v1
              recap engine check --engine openai --base-urls-file servers.txt   (a pool: each server checked)
              RECAP_API_KEY=… recap engine check --engine openai --preset ollama --model gemma3n:e4b
            """,
        subcommands: [EngineCheckCommand.self, EngineServeCommand.self, EngineBenchCommand.self],
        defaultSubcommand: EngineCheckCommand.self
    )
}

/// The engine flags, shared by every command that uses an engine (`recap run`, `recap engine …`).
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("engine"), help: "local (offline default) or openai (an OpenAI-compatible server).")
    var backend: EngineSettings.Backend = .local

    @Option(help: "openai: which server, for its capabilities with Gemma 3n: vllm, llama-server, ollama, generic.")
    var preset: ServerPreset = .vllm

    @Option(name: .customLong("base-url"), help: ArgumentHelp(
        "openai: the API root, e.g. http://127.0.0.1:8000/v1 (default: the preset's usual address). Repeat it, or separate with commas, for a pool of servers.",
        discussion: "A pool's servers must serve the same model. Each request goes to the least busy server; one that fails is left alone for a while (5 s, doubling up to 5 min) and its requests go to the others. The run stops only when no server is left.",
        valueName: "url"))
    var baseURL: [String] = []

    @Option(name: .customLong("base-urls-file"), help: ArgumentHelp(
        "openai: a file listing a pool's servers, one API root per line (# starts a comment); adds to --base-url.",
        valueName: "file"))
    var baseURLsFile: String?

    @Option(help: "openai: the model name the server knows (default: the first it lists). The API key is read from RECAP_API_KEY or OPENAI_API_KEY.")
    var model: String?

    @Option(help: ArgumentHelp(
        "local: which language model: fast (SmolLM2-135M), balanced (Qwen2.5-Coder-0.5B) or best (Qwen2.5-Coder-1.5B).",
        discussion: "Default: balanced, or $RECAP_QUALITY. Install a tier's model with `recap models install --all`."))
    var quality: Quality?

    @Option(help: "local: a GGUF language model to use instead of the quality tier's.")
    var llmModel: String?

    @Option(help: "local: the GGUF model's multimodal projector; lets the model see frames.")
    var mmproj: String?

    @Option(help: "local: whisper model for audio parts: base or tiny.en.")
    var speechModel: String?

    @Flag(inversion: .prefixedNo, help: "local: read on-screen text with Tesseract OCR.")
    var ocr = true

    @Option(help: "Override: does the engine take images?")
    var images: Bool?
    @Option(help: "Override: does the engine take audio?")
    var audio: Bool?
    @Option(help: "Override: does the server constrain output to a JSON schema?")
    var jsonSchema: Bool?
    @Option(help: "Override: context size in tokens (local: passed to llama-server as -c; default 4096 for fast, 8192 for balanced and best).")
    var context: Int?
    @Option(help: "Override: most images per request.")
    var maxImages: Int?
    @Option(help: "Override: longest audio clip in seconds.")
    var maxAudioSeconds: Double?

    @Option(help: "openai: seconds to wait for a connection.")
    var connectTimeout: Double = 5
    @Option(help: "Seconds one request may take.")
    var timeout: Double = 600
    @Option(help: "openai: retries on connection errors, 429 and 5xx (exponential backoff, honours Retry-After).")
    var retries: Int = 3

    func validate() throws {
        if let baseURLsFile {
            let text: String
            do { text = try EndpointList.read(file: baseURLsFile) } catch { throw ValidationError("\(error)") }
            let listed = EndpointList.parse([], fileText: text)
            if listed.isEmpty { throw ValidationError("\(baseURLsFile) lists no server (one API root per line, # starts a comment)") }
        }
        if quality == nil, let v = ProcessInfo.processInfo.environment["RECAP_QUALITY"], !v.isEmpty, Quality(rawValue: v) == nil {
            throw ValidationError("RECAP_QUALITY=\(v) is not a quality; use fast, balanced or best")
        }
    }

    var settings: EngineSettings {
        var s = EngineSettings(
            backend: backend, preset: preset, baseURLs: baseURLs, model: model,
            connectTimeoutSeconds: connectTimeout, requestTimeoutSeconds: timeout, retries: retries,
            llmModel: llmModel, mmproj: mmproj, speechModel: speechModel, ocr: ocr, images: images, audio: audio,
            jsonSchema: jsonSchema, contextTokens: context, maxImagesPerRequest: maxImages,
            maxAudioSecondsPerClip: maxAudioSeconds)
        s.quality = quality ?? ProcessInfo.processInfo.environment["RECAP_QUALITY"].flatMap(Quality.init(rawValue:)) ?? .default
        return s
    }

    /// Every server named by --base-url and --base-urls-file (validate() has checked the file reads).
    var baseURLs: [String] {
        EndpointList.parse(baseURL, fileText: baseURLsFile.flatMap { try? EndpointList.read(file: $0) })
    }
}

extension EngineSettings.Backend: ExpressibleByArgument {}
extension ServerPreset: ExpressibleByArgument {}
extension Quality: ExpressibleByArgument {}

/// `recap engine check`: one tiny real request per input the engine claims.
struct EngineCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Send a tiny real request with each input the engine claims; print what works and how fast.",
        discussion: """
            Sends text, then a JPEG (a rendered title card), then one second of audio, each with a JSON schema, \
            and reports which capabilities answered with schema-valid JSON and the latency of each. A pool of servers \
            (several --base-url) is checked server by server. Exit code 0 when every claimed input works (on every \
            server), 3 when the engine cannot be reached (no server can), 1 otherwise.
            """
    )

    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let made: any Engine
        do { made = try await engine.settings.makeEngine() } catch {
            printError(error)
            throw ExitCode(error is EnginePoolError ? 1 : 3)  // servers serving different models: configuration
        }
        let report = await EngineCheck.run(made)
        await made.shutdown()
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        } else {
            print(report.humanText)
        }
        if report.unreachable { throw ExitCode(3) }
        if !report.allPassed { throw ExitCode(1) }
    }
}

/// `recap engine serve`: keep the local llama-server running for other tools (and for tests of the supervisor).
struct EngineServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Start the local engine's llama-server and keep it running until Ctrl-C.",
        discussion: """
            Prints the OpenAI-compatible URL (and, with --json, the server's pid) once it is healthy. The server \
            is supervised: restarted if it dies, stopped when this command ends in any way.
            """
    )

    @OptionGroup var engine: EngineOptions
    @Flag(help: "Print {\"url\":…, \"pid\":…} as one JSON line.")
    var json = false

    func run() async throws {
        var settings = engine.settings
        settings.backend = .local
        let local: LocalEngine
        do {
            guard let l = try await settings.makeEngine() as? LocalEngine else { throw ExitCode(1) }
            local = l
            try await local.start()
        } catch let e as ExitCode {
            throw e
        } catch {
            printError(error)
            throw ExitCode(3)
        }
        let url = await local.supervisor.baseURL ?? ""
        let pid = await local.supervisor.pid ?? 0
        // Written unbuffered: whoever started us reads this line to find the server.
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var line = try encoder.encode(["url": url, "pid": String(pid), "model": local.identity.models["language"] ?? ""])
            line.append(UInt8(ascii: "\n"))
            FileHandle.standardOutput.write(line)
        } else {
            FileHandle.standardOutput.write(Data("llama-server (pid \(pid)) serving \(local.identity.models["language"] ?? "") at \(url); Ctrl-C stops it\n".utf8))
        }
        // Signals stop the server and exit (installed by the engine); until then, wait.
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(3600))
        }
    }
}

/// `recap engine bench`: the same request N times through Recap's client, with the server's own timings, so
/// bench/engine.sh can compare against curl replaying the identical body.
struct EngineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time N identical schema requests through Recap's OpenAI client (for bench/engine.sh).",
        discussion: """
            Prints one JSON line per request: wall seconds through Recap (encode, HTTP, decode, validate), the \
            HTTP exchange alone, and the server's reported prompt/generation milliseconds and tokens/s. \
            --dump-body prints the exact request body instead, for replaying with curl.
            """,
        shouldDisplay: false
    )

    @Option(help: "The OpenAI-compatible API root, e.g. the URL `recap engine serve` printed.")
    var baseURL: String
    @Option(help: "Requests to send.")
    var requests = 10
    @Option(help: "Tokens to generate per request.")
    var maxTokens = 64
    @Flag(help: "Vary the prompt per request (defeats llama-server's prompt cache, to measure prompt speed).")
    var vary = false
    @Flag(help: "Print the request body and exit.")
    var dumpBody = false

    func run() async throws {
        let engine = OpenAIEngine(configuration: OpenAIConfiguration(
            baseURL: baseURL, preset: .llamaServer, apiKey: nil, maxRetries: 0))
        func request(_ i: Int) -> EngineRequest {
            let note = vary ? " (request \(i))" : ""
            return EngineRequest(
                system: "You summarise lecture transcripts as JSON.",
                parts: [.text("Transcript\(note): Welcome to this short lecture about river deltas. A delta forms where a slow river meets the sea. The water drops sand and mud at the river mouth. Over many years, this builds new land for plants and birds. Thank you for listening, and see you next time. Give a title and a summary.")],
                schema: ["type": "object", "required": ["title", "summary"],
                         "properties": ["title": ["type": "string"], "summary": ["type": "string"]]],
                maxTokens: maxTokens, temperature: 0, seed: 1)
        }
        if dumpBody {
            FileHandle.standardOutput.write(try engine.requestBody(for: request(0)))
            return
        }
        for i in 0..<requests {
            let r: EngineResponse
            do { r = try await engine.generate(request(i)) } catch let e as EngineError {
                if case .invalidOutput = e { continue }  // cut by max tokens: not a timing sample
                throw e
            }
            let line: JSONValue = [
                "total_s": .number(r.timings.totalSeconds), "http_s": .number(r.timings.httpSeconds),
                "prompt_ms": .number(r.timings.serverPromptMs ?? 0), "gen_ms": .number(r.timings.serverGenerationMs ?? 0),
                "prompt_tps": .number(r.timings.promptTokensPerSecond ?? 0),
                "gen_tps": .number(r.timings.generationTokensPerSecond ?? 0),
                "prompt_tokens": .number(Double(r.usage.promptTokens)), "completion_tokens": .number(Double(r.usage.completionTokens)),
                "calls": .number(Double(r.usage.calls)),
            ]
            print(line.jsonString())
        }
    }
}

func printError(_ error: any Error) {
    FileHandle.standardError.write(Data("recap: \(error)\n".utf8))
}
