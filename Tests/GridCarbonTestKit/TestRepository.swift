import Foundation

/// What the tests need from this repository, found from the repository itself: the fixtures, the
/// factor data, and the `gridcarbon` binary that `swift build --build-tests` built beside the test
/// bundle. Nothing here looks outside the clone; a test that cannot find what it needs fails with
/// ``Missing``, it never skips.
public enum TestRepository {
    /// The repository's root folder (this file is `Tests/GridCarbonTestKit/TestRepository.swift`).
    public static var root: String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }

    /// `Tests/Fixtures`: inputs and expected outputs the tests compare against.
    public static var fixtures: String { root + "/Tests/Fixtures" }

    /// The worked example of the reference (`docs/reference.md`, §1): a registry, records and the
    /// exact expected aggregate files.
    public static var example: String { fixtures + "/basic" }

    /// `data/`: the published factor tables the binary embeds, with their sources.
    public static var data: String { root + "/data" }

    /// The folder of the running test bundle: `swift build --build-tests` puts the products there.
    public static var productsFolder: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    /// The `gridcarbon` executable built with these tests (same build folder and configuration).
    public static var binary: String { productsFolder + "/gridcarbon" }

    /// The binary's path, or ``Missing`` saying how to build it.
    public static func requireBinary() throws -> String {
        let path = binary
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(what: path, hint: "build the tests and the executable together: `swift build --build-tests`, then `swift test --skip-build` (or `make test`)")
        }
        return path
    }

    /// A file or folder of the repository, or ``Missing``.
    public static func require(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(what: path, hint: "it belongs to the repository; is the clone complete?")
        }
        return path
    }

    /// Something a test needs is not there: the test fails with this, it does not skip.
    public struct Missing: Error, CustomStringConvertible {
        public let what: String
        public let hint: String
        public var description: String { "missing \(what): \(hint)" }
    }
}
