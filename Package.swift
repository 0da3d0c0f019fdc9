// swift-tools-version: 6.1
import PackageDescription

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "gridcarbon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gridcarbon", targets: ["gridcarbon"]),
        .library(name: "GridCarbonEngine", targets: ["GridCarbonEngine"]),
        .library(name: "GridCarbonIO", targets: ["GridCarbonIO"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // The NATS C client (libnats 3.4, JetStream), for the scale-out of SPEC §8.
        .systemLibrary(
            name: "CNats",
            pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"])]
        ),
        // glibc malloc settings for the daemon's flat memory (mallopt).
        .target(name: "CMallocTuning"),
        // Pure model, no I/O: time, regions, the registry, the embedded factor tables, the number
        // format, the byte codec (Bytes/), error categories (Errors/).
        .target(name: "GridCarbonModel", swiftSettings: strict),
        // The deterministic engine: Parsing/, watermark, spans, slots, windows (Engine+*.swift),
        // alert rules (Alerts/, a file per rule kind), checkpoints (Checkpoint/). No unsafe flags (the
        // package stays usable as a dependency): the per-record state sits behind a pointer
        // (Engine+HotState.swift), so no dynamic exclusivity check is on the hot path.
        .target(name: "GridCarbonEngine", dependencies: ["GridCarbonModel"], swiftSettings: strict),
        // I/O around the engine: zstd, input readers, aggregate CSV and files, side outputs, the
        // write-ahead log (Log/), the alert log, the configuration file's one reader and its list
        // of keys (Config/, over the JSON reader in JSON/), replay, error types (Errors/).
        .target(
            name: "GridCarbonIO",
            dependencies: [
                "GridCarbonEngine", "GridCarbonModel", "CZstd",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The daemon: the engine host on its serial queue behind the log (Host/), TCP and HTTP
        // ingest, metrics, alert delivery (Alerts/), systemd notification.
        .target(
            name: "GridCarbonServer",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonStream", "CMallocTuning",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // NATS JetStream (SPEC §8) over libnats: the stream layout, the partition hash, the
        // connection, streams, ordered publishing with acknowledgements, pull consumers, and
        // `publish` (record lines routed into the stream). libnats calls block: they run on threads
        // of their own (BlockingThread), never on Swift concurrency's pool.
        .target(
            name: "GridCarbonStream",
            dependencies: ["CNats", "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO"],
            swiftSettings: strict
        ),
        // Synthetic fleet generator.
        .target(name: "GridCarbonSimulate", dependencies: ["GridCarbonModel", "GridCarbonIO"], swiftSettings: strict),
        .executableTarget(
            name: "gridcarbon",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonSimulate", "GridCarbonServer",
                "GridCarbonStream",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Where tests find the fixtures and the built binary; used by the test targets only.
        .target(name: "GridCarbonTestKit", path: "Tests/GridCarbonTestKit", swiftSettings: strict),
        .testTarget(
            name: "GridCarbonTests",
            dependencies: ["GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonSimulate", "GridCarbonTestKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "GridCarbonServerTests",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonServer", "GridCarbonTestKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Against real nats-server processes (a single node and a 3-node cluster) that the tests
        // start themselves; the `gridcarbon` binary where it is the thing under test.
        .testTarget(
            name: "GridCarbonStreamTests",
            dependencies: ["CNats", "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonStream", "GridCarbonTestKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)

// libFuzzer targets (docs/fuzzing.md): only with GRIDCARBON_FUZZ=1, as `scripts/fuzz.sh` builds them
// (`-sanitize=fuzzer,address` into `.build-fuzz`), so ordinary builds never see them. One
// executable; the target to run is chosen by GRIDCARBON_FUZZ_TARGET. It reads the write-ahead-log
// entry and host checkpoint decoders of GridCarbonServer through links to their source files
// (Fuzz/Sources/GridCarbonFuzz/Linked), so the sanitizer build does not need the daemon's
// networking dependencies.
if getenv("GRIDCARBON_FUZZ").map({ String(cString: $0) }) == "1" {
    package.targets.append(
        .executableTarget(
            name: "GridCarbonFuzz",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Fuzz/Sources/GridCarbonFuzz",
            // Swift 5 mode: the harness keeps its fixtures in globals, one thread only.
            swiftSettings: [.swiftLanguageMode(.v5), .unsafeFlags(["-parse-as-library"])]
        )
    )
}
