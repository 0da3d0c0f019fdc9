import Testing
import GridCarbonTestKit
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// The worked example (`Tests/Fixtures/basic`, docs/reference.md §1), through the real replay path:
/// files on disk, zstd, atomic writes.
@Suite struct ExampleTests {
    @Test func replayWritesTheExpectedFilesByteForByte() throws {
        let ex = try TestRepository.require(TestRepository.example)
        let out = try TempDir("example")
        let summary = try Replay.run(ReplayJob(registryPath: ex + "/registry.csv", dataDirectory: out.path, inputs: [ex + "/records.csv"]))
        #expect(summary.counts.accepted == 20)
        #expect(summary.counts.duplicate == 1)
        #expect(summary.counts.rejected == 2)
        #expect(summary.counts.late == 1)
        #expect(summary.anomalies == 2)
        let expected = try Files.walk(ex + "/expected/aggregates", suffix: ".csv.zst").map { String($0.dropFirst(ex.count + "/expected/".count)) }
        let written = try Files.walk(out.path + "/aggregates", suffix: ".csv.zst").map { String($0.dropFirst(out.path.count + 1)) }
        #expect(expected == written)
        for f in expected {
            let want = try Zstd.decompress(Files.read(ex + "/expected/" + f))
            let raw = try Files.read(out.path + "/" + f)
            #expect(try Zstd.decompress(raw) == want, "\(f)")
            // One zstd frame per file.
            #expect(raw.prefix(4) == [0x28, 0xB5, 0x2F, 0xFD])
        }
        // Side outputs: rejected with reasons and line numbers, the late line, the two anomalies.
        let rejected = try sideOutput(out.path + "/rejected")
        #expect(rejected.count == 2)
        #expect(rejected[0].contains(#""reason":"unknown_meter","line":"r,M9,2026-11-18T11:00:00+08:00,1.00""#))
        #expect(rejected[0].contains("records.csv:24"))
        #expect(rejected[1].contains(#""reason":"bad_number""#) && rejected[1].contains("records.csv:25"))
        let late = try sideOutput(out.path + "/late")
        #expect(late.count == 1 && late[0].contains("records.csv:26"))
        let anomalies = try sideOutput(out.path + "/anomalies")
        #expect(anomalies.count == 2)
        #expect(anomalies[0].hasPrefix(#"{"kind":"register_reset","meter":"M2","ts":"2026-11-18T10:45:00+08:00""#))
        #expect(anomalies[1].hasPrefix(#"{"kind":"implausible_jump","meter":"M2","ts":"2026-11-18T11:00:00+08:00""#))
        #expect(anomalies[1].contains(#""kw":68,"max_kw":50"#))
    }

    @Test func aRerunWritesTheSameBytes() throws {
        let ex = try TestRepository.require(TestRepository.example)
        let a = try TempDir("rerun-a"), b = try TempDir("rerun-b")
        for d in [a, b] {
            _ = try Replay.run(ReplayJob(registryPath: ex + "/registry.csv", dataDirectory: d.path, inputs: [ex + "/records.csv"]))
        }
        let files = try Files.walk(a.path + "/aggregates", suffix: ".zst")
        #expect(files.count == 6)
        for f in files {
            #expect(try Files.read(f) == Files.read(b.path + f.dropFirst(a.path.count)))
        }
    }

    func sideOutput(_ dir: String) throws -> [String] {
        try Files.walk(dir, suffix: ".ndjson.zst").flatMap { f in
            String(decoding: try Zstd.decompress(Files.read(f)), as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }
}

/// A scratch folder removed when the test ends.
final class TempDir {
    let path: String
    init(_ name: String) throws {
        var template = Array("/tmp/gridcarbon-\(name)-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw IOError(path: name, message: "mkdtemp failed") }
        path = String(cString: p)
    }
    deinit { _ = try? Self.remove(path) }

    static func remove(_ path: String) throws {
        if Files.isDirectory(path) {
            for n in try Files.list(path) { try remove(path + "/" + n) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
