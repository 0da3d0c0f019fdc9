// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// The engine's hot loops own their state on one thread; dynamic exclusivity checks cost 10 % there.
let hot: [SwiftSetting] = strict + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "gridcarbon",
    platforms: [.macOS(.v14)],
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
        // glibc malloc settings for the daemon's flat memory (mallopt, malloc_trim).
        .target(name: "CMallocTuning"),
        // Pure model: time, regions, registry, factor tables. No I/O.
        .target(name: "GridCarbonModel", swiftSettings: strict),
        // Deterministic engine: parsing, watermark, spans, slots, windows.
        .target(name: "GridCarbonEngine", dependencies: ["GridCarbonModel"], swiftSettings: hot),
        // I/O around the engine: zstd, line readers, aggregate files, side outputs.
        .target(name: "GridCarbonIO", dependencies: ["GridCarbonEngine", "GridCarbonModel", "CZstd"], swiftSettings: strict),
        // The daemon: engine host on a serial queue, write-ahead log, TCP and HTTP ingest, metrics.
        .target(
            name: "GridCarbonServer",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "CMallocTuning",
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
            ],
            swiftSettings: strict
        ),
        // Synthetic fleet generator.
        .target(name: "GridCarbonSimulate", dependencies: ["GridCarbonModel", "GridCarbonIO"], swiftSettings: strict),
        .executableTarget(
            name: "gridcarbon",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonSimulate", "GridCarbonServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GridCarbonTests",
            dependencies: ["GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonSimulate"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "GridCarbonServerTests",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
