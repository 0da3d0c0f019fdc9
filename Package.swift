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
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // Pure model: time, regions, registry, factor tables. No I/O.
        .target(name: "GridCarbonModel", swiftSettings: strict),
        // Deterministic engine: parsing, watermark, spans, slots, windows.
        .target(name: "GridCarbonEngine", dependencies: ["GridCarbonModel"], swiftSettings: hot),
        // I/O around the engine: zstd, line readers, aggregate files, side outputs.
        .target(name: "GridCarbonIO", dependencies: ["GridCarbonEngine", "GridCarbonModel", "CZstd"], swiftSettings: strict),
        // Synthetic fleet generator.
        .target(name: "GridCarbonSimulate", dependencies: ["GridCarbonModel", "GridCarbonIO"], swiftSettings: strict),
        .executableTarget(
            name: "gridcarbon",
            dependencies: [
                "GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonSimulate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "GridCarbonTests",
            dependencies: ["GridCarbonModel", "GridCarbonEngine", "GridCarbonIO", "GridCarbonSimulate"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
