// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Logbook",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "LogbookCore", targets: ["LogbookCore"]),
        .library(name: "LogbookEngine", targets: ["LogbookEngine"]),
        .library(name: "LogbookFileStore", targets: ["LogbookFileStore"]),
        .library(name: "LogbookStoreConformance", targets: ["LogbookStoreConformance"]),
        .library(name: "LogbookServer", targets: ["LogbookServer"]),
        .executable(name: "logbook", targets: ["logbook"]),
        .executable(name: "logbook-bench", targets: ["logbook-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // The server (issue 11): HTTP, its services' lifecycle, metrics in Prometheus format.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The remote side of the CLI (`--server URL`): requests and the SSE stream.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Pure core: models, canonical JSON, hashing and signing, the task state machine and
        // the reducer. No file I/O, no NIO.
        .target(
            name: "LogbookCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Every workflow (lock, book, verify, lifecycle, checkpoints, migrate, key rotation) over
        // storage protocols (journal store, catalog, artifact store, signer source), and the
        // in-memory backend. Core and swift-log only: no files, no NIO.
        .target(
            name: "LogbookEngine",
            dependencies: ["LogbookCore", .product(name: "Logging", package: "swift-log")]
        ),
        // Two system calls Swift cannot import cleanly on Linux (flock, fstatfs), and the system
        // zlib's gzip streams for journal segments (Debian: zlib1g-dev).
        .target(name: "CLogbookShims", linkerSettings: [.linkedLibrary("z")]),
        // The embedded default backend: files in a workspace folder, flock + fdatasync.
        .target(
            name: "LogbookFileStore",
            dependencies: [
                "LogbookCore",
                "LogbookEngine",
                "CLogbookShims",
                .product(name: "Logging", package: "swift-log"),
                // Blocking file I/O (flock, pread, fdatasync) runs on NIOThreadPool, never on
                // Swift's cooperative threads.
                .product(name: "NIOPosix", package: "swift-nio"),
                // fdatasync latency for /metrics (a no-op unless the process bootstraps a backend).
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // `logbook serve`: the JSON HTTP API, the SSE stream and /metrics over the engine (never
        // the file store directly). Hummingbird 2, swift-metrics with swift-prometheus.
        .target(
            name: "LogbookServer",
            dependencies: [
                "LogbookCore",
                "LogbookEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The cockpit: plain HTML, CSS and JavaScript, served as they are (no build step, no CDN).
            resources: [.copy("Cockpit/Assets")]
        ),
        // A Logbook server seen from a client: the endpoints, the SSE stream, errors mapped back.
        .target(
            name: "LogbookClient",
            dependencies: [
                "LogbookCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "logbook",
            dependencies: [
                "LogbookClient",
                "LogbookCore",
                "LogbookEngine",
                "LogbookFileStore",
                "LogbookServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The performance suite (issue 5): every scenario against its baseline in one run.
        // `swift run -c release logbook-bench` (full) or `--smoke` (tiny sizes, seconds).
        .executableTarget(
            name: "logbook-bench",
            dependencies: [
                "LogbookCore",
                "LogbookEngine",
                "LogbookFileStore",
                "LogbookServer",
                "LogbookClient",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "CLogbookShims",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The conformance suite as a library (as Hummingbird ships HummingbirdTesting): every
        // backend's test target runs its checks against its own storage.
        .target(name: "LogbookStoreConformance", dependencies: ["LogbookCore", "LogbookEngine"]),
        .testTarget(
            name: "LogbookEngineTests",
            dependencies: ["LogbookCore", "LogbookEngine", "LogbookStoreConformance"]
        ),
        .testTarget(
            name: "LogbookCoreTests",
            dependencies: ["LogbookCore", "LogbookStoreConformance"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "LogbookServerTests",
            dependencies: [
                "LogbookCore", "LogbookEngine", "LogbookServer", "LogbookFileStore", "LogbookClient", "LogbookStoreConformance", "logbook",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "LogbookFileStoreTests",
            dependencies: ["LogbookCore", "LogbookEngine", "LogbookFileStore", "LogbookStoreConformance", "logbook"],
            resources: [.copy("Resources")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
