import GridCarbonModel
import Foundation
import GridCarbonIO
import Testing
@testable import GridCarbonStream

/// `gridcarbon publish` (the binary) into a real single-node JetStream, read back through pull consumers.
@Suite struct PublishCommandTests {
    /// Mixed kinds, CSV and NDJSON, comments, blanks, and lines publish must reject.
    static let input = """
    # a comment, skipped
    r,M1,2026-11-18T10:00:00+08:00,1000.00
    f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,0.52
    i,M2,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,1.5
    {"kind":"r","meter":"meter-000001","ts":"2026-11-18T10:00:00+08:00","kwh":12.5}
    m,CN-YN,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,hydro,900
    {"kind":"f","region":"CN-BJ","start":1763431200,"end":1763432100,"kg_per_kwh":0.6}
    x,CN-YN,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,120
    z,not,a,kind

    r,M1,2026-11-18T10:15:00+08:00,1001.25
    r,BJ-0001,2026-11-18T10:15:00+08:00,5
    f,CN-XX,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,0.5
    r,bad id!,2026-11-18T10:15:00+08:00,1
    {"kind":"i","meter":"M2"}
    r,M3,not-a-time,1
    {"kind":"o","level":"enterprise","key":"ENT-001","start":1763431200,"end":1763434800,"value":12,"unit":"cny_10k"}
    r,M2,2026-11-18T10:15:00+08:00,7
    """

    /// What each subject must hold, in order, for P = 4 (M1 → 3, M2 → 2, meter-000001 → 2,
    /// BJ-0001 → 3, M3 → its own hash).
    static func expected() -> [String: [String]] {
        var out: [String: [String]] = [:]
        for line in input.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let subject: String?
            if line.hasPrefix("r,M3,") { subject = "gridcarbon.meter.\(Partitioning.partition(meterID: "M3", count: 4))" }
            else if line.hasPrefix("r,M1,") { subject = "gridcarbon.meter.3" }
            else if line.hasPrefix("i,M2,") || line.hasPrefix("r,M2,") || line.contains("meter-000001") { subject = "gridcarbon.meter.2" }
            else if line.hasPrefix("r,BJ-0001,") { subject = "gridcarbon.meter.3" }
            else if line.hasPrefix("f,CN-GD") || line.hasPrefix("m,") || line.contains("CN-BJ") || line.hasPrefix("x,") || line.contains("\"kind\":\"o\"") { subject = "gridcarbon.grid" }
            else { subject = nil }
            if let s = subject { out[s, default: []].append(line) }
        }
        return out
    }

    @Test func routesEveryLineInInputOrderAndDeduplicatesAResend() throws {
        let dir = temporaryDirectory("publish")
        let server = try NATSServerProcess(directory: dir + "/nats")
        defer { server.kill() }
        let file = try writeFile(dir, "records.csv", Self.input)

        let first = try GridCarbonBinary.run(["publish", "--nats", server.url, "--partitions", "4", "--data", dir + "/data", "--no-progress", file])
        #expect(first.status == 0, "\(first.err)")
        #expect(count("meter partitions", in: first.out) == 7)
        #expect(count("grid", in: first.out) == 5)
        #expect(count("rejected", in: first.out) == 4)
        #expect(count("skipped", in: first.out) == 2)
        #expect(first.out.contains("P=4, R=1, created"))
        #expect(first.out.contains("0 duplicate"))

        let js = try JetStream(try NATSConnection(urls: server.url))
        let expected = Self.expected()
        for subject in StreamLayout().subjects(partitions: 4) {
            #expect(try readBack(js, subject: subject).map(\.line) == expected[subject] ?? [], "\(subject)")
        }
        let stored = try #require(try js.streamInfo("GRIDCARBON"))

        // The rejected lines, with replay's reasons, in replay's side output format.
        let rejectedFiles = try Files.list(dir + "/data/rejected")
        #expect(rejectedFiles.count == 1)
        let rejected = String(decoding: try Zstd.decompress(try Files.read(dir + "/data/rejected/" + rejectedFiles[0])), as: UTF8.self)
        let reasons = rejected.split(separator: "\n").map { line -> String in
            let r = line.components(separatedBy: "\"reason\":\"")[1]
            return String(r.prefix { $0 != "\"" })
        }
        #expect(reasons == ["bad_kind", "bad_region", "bad_meter_id", "bad_field_count"])
        #expect(rejected.contains("\"source\":\"\(file):9\""))
        #expect(rejected.contains("\"line\":\"z,not,a,kind\""))

        // The same file again: nothing new stored, every message a duplicate.
        let again = try GridCarbonBinary.run(["publish", "--nats", server.url, "--data", dir + "/data", "--no-progress", file])
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("P=4, R=1)"))
        #expect(again.out.contains("0 stored"))
        #expect(again.out.contains("duplicate (12 lines)"))
        let after = try #require(try js.streamInfo("GRIDCARBON"))
        #expect(after.lastSequence == stored.lastSequence)
        #expect(after.messages == stored.messages)

        // Another P is refused with exit status 2; an unreachable server with 1.
        let other = try GridCarbonBinary.run(["publish", "--nats", server.url, "--partitions", "2", "--data", dir + "/data", file])
        #expect(other.status == 2)
        #expect(other.err.contains("has 4 partitions"))
        let nowhere = try GridCarbonBinary.run(["publish", "--nats", "nats://127.0.0.1:\(NATSServerProcess.freePort())", "--data", dir + "/data", file])
        #expect(nowhere.status == 1)
        #expect(nowhere.err.contains("cannot connect to NATS"))
        let missing = try GridCarbonBinary.run(["publish", "--nats", server.url, "--data", dir + "/data", dir + "/nope.csv"])
        #expect(missing.status == 1)
        #expect(missing.err.contains("no such file"))
    }

    @Test func partitionCommandPrintsTheDocumentedHash() throws {
        let r = try GridCarbonBinary.run(["partition", "--partitions", "4", "M1", "M2", "meter-000001", "BJ-0001"])
        #expect(r.status == 0)
        #expect(r.out == "M1 3\nM2 2\nmeter-000001 2\nBJ-0001 3\n")
        #expect(try GridCarbonBinary.run(["partition", "--partitions", "0", "M1"]).status == 2)
    }

    @Test func zstdAndStandardInputAreReadLikeReplay() throws {
        let dir = temporaryDirectory("publish-zst")
        let server = try NATSServerProcess(directory: dir + "/nats")
        defer { server.kill() }
        let path = dir + "/records.csv.zst"
        try Files.writeAtomically(path, try Zstd.compress(Array(Self.input.utf8)), sync: false)
        let r = try GridCarbonBinary.run(["publish", "--nats", server.url, "--partitions", "4", "--data", dir + "/data", "--no-progress", path])
        #expect(r.status == 0, "\(r.err)")
        let js = try JetStream(try NATSConnection(urls: server.url))
        #expect(try readBack(js, subject: "gridcarbon.grid").map(\.line) == Self.expected()["gridcarbon.grid"])

        // The same lines on standard input are the same messages: all duplicates.
        let piped = try GridCarbonBinary.run(["publish", "--nats", server.url, "--data", dir + "/data", "--no-progress", "-"], stdin: Array(Self.input.utf8))
        #expect(piped.status == 0, "\(piped.err)")
        #expect(piped.out.contains("0 stored"), "\(piped.out)")
        #expect(piped.out.contains("duplicate (12 lines)"), "\(piped.out)")
    }
}
