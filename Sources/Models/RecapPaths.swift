import Foundation

/// Where Recap keeps what it downloads and builds: never inside the repo.
///
///   RECAP_CACHE         default $XDG_CACHE_HOME/recap or ~/.cache/recap
///   RECAP_PREFIX        default $RECAP_CACHE/prefix   (scripts/deps.sh installs libwhisper, llama-server here)
///   RECAP_MODELS        default $RECAP_CACHE/models   (`recap models install` writes here)
///   RECAP_LLAMA_SERVER  an explicit llama-server binary, overriding the prefix's
public struct RecapPaths: Sendable, Equatable {
    public var cache: URL
    public var prefix: URL
    public var models: URL
    public var llamaServerOverride: URL?

    public init(cache: URL, prefix: URL? = nil, models: URL? = nil, llamaServerOverride: URL? = nil) {
        self.cache = cache
        self.prefix = prefix ?? cache.appendingPathComponent("prefix")
        self.models = models ?? cache.appendingPathComponent("models")
        self.llamaServerOverride = llamaServerOverride
    }

    /// The paths the environment asks for (see the type's documentation for the variables).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> RecapPaths {
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        let cache: URL
        if let c = value("RECAP_CACHE") {
            cache = URL(fileURLWithPath: c)
        } else {
            let base = value("XDG_CACHE_HOME") ?? (NSHomeDirectory() + "/.cache")
            cache = URL(fileURLWithPath: base).appendingPathComponent("recap")
        }
        return RecapPaths(
            cache: cache,
            prefix: value("RECAP_PREFIX").map { URL(fileURLWithPath: $0) },
            models: value("RECAP_MODELS").map { URL(fileURLWithPath: $0) },
            llamaServerOverride: value("RECAP_LLAMA_SERVER").map { URL(fileURLWithPath: $0) })
    }

    /// The llama-server binary: RECAP_LLAMA_SERVER, else $RECAP_PREFIX/bin/llama-server.
    /// - Throws: `ModelError.toolMissing` naming the path and the command that builds it.
    public func llamaServer() throws -> URL {
        let url = llamaServerOverride ?? prefix.appendingPathComponent("bin/llama-server")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ModelError.toolMissing(
                path: url.path,
                hint: llamaServerOverride != nil
                    ? "RECAP_LLAMA_SERVER names a file that is not an executable; fix or unset it"
                    : "build it with `make deps` (scripts/deps.sh)")
        }
        return url
    }

    /// whisper.cpp's own command-line tool, built by scripts/deps.sh (the benchmark's reference).
    public func whisperCLI() throws -> URL {
        let url = prefix.appendingPathComponent("bin/whisper-cli")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ModelError.toolMissing(path: url.path, hint: "build it with `make deps` (scripts/deps.sh)")
        }
        return url
    }
}
