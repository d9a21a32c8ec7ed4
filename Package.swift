// swift-tools-version:6.1
// Recap: folders of videos in, captions, summaries and transcripts out, as JSON.
//
// One module per concern. The folder layout under Sources/ is the architecture:
//   CFFmpeg, CWhisper, CTesseract  thin C shims (system libraries found with pkg-config)
//   Media      probe, frame sampling, audio extraction and chunking (FFmpeg libraries)
//   Store      the SQLite job store: resumable, exactly-once work (GRDB), and the JobQueue protocol
//   PostgresStore  the same job queue on PostgreSQL, for workers on many hosts (PostgresNIO)
//   Speech     whisper.cpp in-process: transcripts with timestamps, speech gating
//   Models     the local models: pinned PyPI downloads into the cache, conversion, checksums
//   Engine     the multimodal engine boundary, the OpenAI-compatible client, the local default
//   Pipeline   `recap run`: discovery, stages, prompts, outputs
//   Web        `recap serve`: a read-only web page over an output folder (Hummingbird)
//   recap      the command-line interface (swift-argument-parser)
import PackageDescription

// Development convenience: RECAP_DEV_ONLY=Media,MediaTests,CFFmpeg keeps only the named targets,
// so one area can build and test while another area's native dependencies are still building.
// Unset (as in `make`), the whole package builds.
let devOnly: Set<String>? = Context.environment["RECAP_DEV_ONLY"].map {
    Set($0.split(separator: ",").map(String.init))
}

let package = Package(
    name: "Recap",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "recap", targets: ["recap"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // MARK: C shims
        .systemLibrary(
            name: "CFFmpeg",
            path: "Sources/CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale libswresample",
            providers: [.apt(["libavcodec-dev", "libavformat-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        .systemLibrary(
            name: "CWhisper",
            path: "Sources/CWhisper",
            pkgConfig: "recap-whisper"  // written by scripts/deps.sh into the cache prefix
        ),
        .systemLibrary(
            name: "CTesseract",
            path: "Sources/CTesseract",
            pkgConfig: "tesseract",
            providers: [.apt(["libtesseract-dev"])]
        ),

        // MARK: Modules
        .target(name: "Media", dependencies: ["CFFmpeg"]),
        .target(name: "Store", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "PostgresStore",
            dependencies: [
                "Store", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Speech", dependencies: ["CWhisper", "Media", "Models"],
            // Optimised in debug builds too: the voice encoder's loops are 30× slower unoptimised, which would make the
            // test suite (a debug build) spend minutes on speaker labels.
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        .target(name: "Models"),
        .target(
            name: "Engine",
            dependencies: [
                "Media", "Speech", "Models", "CTesseract",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Pipeline",
            dependencies: ["Media", "Store", "Engine", "Speech", "Models", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Web",
            dependencies: [
                "Store", "Pipeline", "Engine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "recap",
            dependencies: [
                "Media", "Store", "PostgresStore", "Speech", "Models", "Engine", "Pipeline", "Web",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A tiny worker used by the store's multi-process and kill tests, and the store and queue benchmarks.
        .executableTarget(name: "StoreTestWorker", dependencies: ["Store", "PostgresStore"]),
        // A throwaway PostgreSQL 15 cluster for the tests that need a real one (not linked into recap).
        .target(name: "ThrowawayPostgres"),

        // MARK: Tests
        .testTarget(name: "MediaTests", dependencies: ["Media"]),
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        // One contract suite, run against the SQLite store and a throwaway PostgreSQL cluster.
        .testTarget(name: "StoreContractTests", dependencies: ["Store", "PostgresStore", "ThrowawayPostgres"]),
        .testTarget(name: "SpeechTests", dependencies: ["Speech", "Models", "Media"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Media", "Models"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Engine", "Store", "PostgresStore", "Media", "ThrowawayPostgres"]),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "Web", "Store", "Pipeline", "Engine", "Media",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]
        ),
    ]
)

if let keep = devOnly {
    package.targets.removeAll { !keep.contains($0.name) }
    package.products.removeAll()
}
