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
        .executable(name: "logbook", targets: ["logbook"]),
        .executable(name: "logbook-bench", targets: ["logbook-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
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
            ]
        ),
        .executableTarget(
            name: "logbook",
            dependencies: [
                "LogbookCore",
                "LogbookEngine",
                "LogbookFileStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
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
            name: "LogbookFileStoreTests",
            dependencies: ["LogbookCore", "LogbookEngine", "LogbookFileStore", "LogbookStoreConformance", "logbook"],
            resources: [.copy("Resources")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
