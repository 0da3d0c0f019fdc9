import Foundation
import Testing
import GridCarbonIO
import GridCarbonTestKit

/// `replay` and `cat` on awkward input, through the real binary: over-long lines are
/// `line_too_long` and counted once as lines, an empty aggregate file says so, a negative duration
/// is refused as negative.
@Suite struct ReplayInputTests {
    struct Run { let status: Int32; let out: String; let err: String }

    func gridcarbon(_ args: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both before waiting: a full pipe would block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// The value of a summary line such as `  rejected   1   (reasons in …)`.
    func count(_ summary: String, _ name: String) -> Int? {
        for line in summary.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count >= 2 && words[0] == name { return Int(words[1].replacingOccurrences(of: ",", with: "")) }
        }
        return nil
    }

    func replayed(_ summary: String) -> Int? {
        guard let line = summary.split(separator: "\n").first(where: { $0.hasPrefix("replayed ") }) else { return nil }
        return Int(line.split(separator: " ")[1].replacingOccurrences(of: ",", with: ""))
    }

    /// Reasons written to the rejected side output.
    func reasons(_ data: String) throws -> [String] {
        var out: [String] = []
        for f in try Files.walk(data + "/rejected", suffix: ".ndjson.zst") {
            let text = String(decoding: try Zstd.decompress(try Files.read(f)), as: UTF8.self)
            for line in text.split(separator: "\n") {
                let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                out.append(obj["reason"] as! String)
            }
        }
        return out.sorted()
    }

    func write(_ dir: TempDir, _ name: String, _ bytes: [UInt8]) throws -> String {
        let path = dir.path + "/" + name
        try Files.writeAtomically(path, bytes, sync: false)
        return path
    }

    static let registry = "meter_id,region,city,park,enterprise,industry,max_kw\nA,CN-GD,,,,,\n"
    static let good = "r,A,2026-11-18T10:00:00+08:00,1\n"

    @Test func twoMegabyteLineWithNewlineIsLineTooLong() throws {
        let dir = try TempDir("replay-long")
        let reg = try write(dir, "registry.csv", Array(Self.registry.utf8))
        // A 2 MB line that would parse as `r` with a huge number if it were read whole.
        let long = "r,A,2026-11-18T10:15:00+08:00," + String(repeating: "1", count: 2 << 20) + "\n"
        let rec = try write(dir, "records.csv", Array((Self.good + long + "r,A,2026-11-18T10:30:00+08:00,3\n").utf8))
        let r = try gridcarbon(["replay", "--registry", reg, "--data", dir.path + "/data", "--no-progress", "--no-fsync", rec])
        #expect(r.status == 0, "\(r.err)")
        #expect(replayed(r.out) == 3, "\(r.out)")
        #expect(count(r.out, "accepted") == 2 && count(r.out, "rejected") == 1, "\(r.out)")
        #expect(try reasons(dir.path + "/data") == ["line_too_long"])
    }

    @Test func threeMegabyteLastLineWithoutNewlineIsCounted() throws {
        let dir = try TempDir("replay-last")
        let reg = try write(dir, "registry.csv", Array(Self.registry.utf8))
        let rec = try write(dir, "records.csv", Array(String(repeating: "x", count: 3 << 20).utf8))
        let r = try gridcarbon(["replay", "--registry", reg, "--data", dir.path + "/data", "--no-progress", "--no-fsync", rec])
        #expect(r.status == 0, "\(r.err)")
        #expect(replayed(r.out) == 1 && count(r.out, "rejected") == 1, "\(r.out)")
        #expect(try reasons(dir.path + "/data") == ["line_too_long"])

        // The same after good lines, and once more compressed.
        let both = try write(dir, "both.csv", Array((Self.good + String(repeating: "x", count: 3 << 20)).utf8))
        let z = try write(dir, "both.csv.zst", try Zstd.compress(try Files.read(both)))
        for input in [both, z] {
            let r2 = try gridcarbon(["replay", "--registry", reg, "--data", dir.path + "/data-\(input.hasSuffix(".zst"))", "--no-progress", "--no-fsync", input])
            #expect(replayed(r2.out) == 2 && count(r2.out, "accepted") == 1 && count(r2.out, "rejected") == 1, "\(input): \(r2.out)")
        }
    }

    @Test func catOnAnEmptyFileSaysItIsEmpty() throws {
        let dir = try TempDir("cat-empty")
        let f = try write(dir, "0000.csv.zst", [])
        let r = try gridcarbon(["cat", f])
        #expect(r.status != 0)
        #expect(r.err.contains("empty") && !r.err.contains("truncated"), "\(r.err)")
    }

    @Test(arguments: [["--reorder-window", "-5m"], ["--reorder-window=-5m"], ["--max-gap", "-1h"]])
    func negativeDurationsAreRefusedAsNegative(_ flag: [String]) throws {
        let dir = try TempDir("replay-negative")
        let reg = try write(dir, "registry.csv", Array(Self.registry.utf8))
        let rec = try write(dir, "records.csv", Array(Self.good.utf8))
        let r = try gridcarbon(["replay", "--registry", reg, "--data", dir.path + "/data"] + flag + [rec])
        #expect(r.status == 2, "\(r.err)")
        #expect(r.err.contains("must not be negative") && !r.err.contains("Missing value"), "\(r.err)")
    }
}
