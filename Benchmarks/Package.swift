// swift-tools-version: 6.1
// Benchmarks of gridcarbon that need a package of their own (ordo-one/benchmark), kept apart so the
// main package's build and CI are unaffected. Run from this folder:
//   swift package benchmark --target MergeCost
import PackageDescription
import class Foundation.ProcessInfo
import struct Foundation.URL

// The main package, one folder up. A path dependency's identity is its folder's name (the checkout's,
// not "gridcarbon"), so it is read here rather than written down.
let mainFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let mainIdentity = mainFolder.lastPathComponent.lowercased()

let package = Package(
    name: "gridcarbon-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // Resolves here only with the trait named (its default traits pull a package not mirrored).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Figure 4 of the scale-out issue: a window of 100,000 meters merged from 4 partitions.
        .executableTarget(
            name: "MergeCost",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GridCarbonEngine", package: mainIdentity),
            ],
            path: "Benchmarks/MergeCost",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
