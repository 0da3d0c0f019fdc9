import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// Live registry reloads in the real daemon over real sockets (§2.1, §6): `POST /v1/registry`
/// and SIGHUP, validated first; a reload is in the write-ahead log, so a `kill -9` after one
/// restarts to the same files.
@Suite(.serialized)
struct RegistryReloadDaemonTests {
    static let example = DaemonProcess.example
    static var r0: String { String(decoding: (try? Files.read(example + "/registry.csv")) ?? [], as: UTF8.self) }
    /// M2 moves to another city, M3 is dropped, M9 is added.
    static var r1: String {
        r0.replacingOccurrences(of: "M2,CN-GD,CN-GD-SZ,", with: "M2,CN-GD,CN-GD-GZ,")
            .split(separator: "\n").filter { !$0.hasPrefix("M3,") }.joined(separator: "\n") + "\nM9,CN-BJ,CN-BJ-BJ,,ENT-009,C,\n"
    }
    static let admin = "admin-token-0123456789a", ingest = "ingest-token-0123456789"

    func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-registry-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func write(_ path: String, _ text: String) throws {
        try Files.writeAtomically(path, Array(text.utf8), sync: false)
    }

    @Test func postRegistryValidatesFirstThenReloads() throws {
        let dir = scratch("post")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(dir + "/tokens", "admin \(Self.admin)\ningest \(Self.ingest)\n")
        let d = try DaemonProcess(data: dir + "/serve", registry: Self.example + "/registry.csv",
                                  extra: ["--tokens", dir + "/tokens", "--idle-timeout", "1h"], readyToken: Self.admin)
        defer { d.stop() }
        let asAdmin = ["Authorization": "Bearer \(Self.admin)"], asIngest = ["Authorization": "Bearer \(Self.ingest)"]
        let m9 = Array("i,M9,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,7\n".utf8)
        let before = try d.http("POST", "/v1/records", body: m9, headers: asIngest)
        #expect(before.status == 200 && before.body.contains("\"reason\":\"unknown_meter\""))

        // Only admin may replace the registry.
        #expect(try d.http("POST", "/v1/registry", body: Array(Self.r1.utf8), headers: asIngest).status == 403)
        // A bad file: 400 naming the line, and nothing changes.
        let bad = Self.r1 + "M10,CN-XX,,,,,\n"
        let badLine = bad.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("M10,") }! + 1
        let refused = try d.http("POST", "/v1/registry", body: Array(bad.utf8), headers: asAdmin)
        #expect(refused.status == 400)
        #expect(refused.body.contains("\"error\":\"bad_registry\""))
        #expect(refused.body.contains("\"message\":\"registry:\(badLine): region 'CN-XX'"), "\(refused.body)")
        let still = try d.http("POST", "/v1/records", body: m9, headers: asIngest)
        #expect(still.status == 200 && still.body.contains("\"rejected\":1"))
        #expect(try d.http("GET", "/metrics", headers: asAdmin).body.contains("gridcarbon_registry_meters 4"))

        // A good one, zstd-compressed: counts, then M9 is accepted and M3 is not.
        let ok = try d.http("POST", "/v1/registry", body: try Zstd.compress(Array(Self.r1.utf8)), headers: asAdmin.merging(["Content-Encoding": "zstd"]) { a, _ in a })
        #expect(ok.status == 200)
        #expect(ok.body.contains("{\"meters\":4,\"added\":1,\"removed\":1,\"changed\":1,"), "\(ok.body)")
        let after = try d.http("POST", "/v1/records", body: m9, headers: asIngest)
        #expect(after.status == 200 && after.body.contains("\"accepted\":1"))
        let m3 = try d.http("POST", "/v1/records", body: Array("r,M3,2026-11-18T10:00:00+08:00,1\n".utf8), headers: asIngest)
        #expect(m3.body.contains("\"reason\":\"unknown_meter\""))
        #expect(try d.http("GET", "/metrics", headers: asAdmin).body.contains("gridcarbon_registry_meters 4"))
        // The same file again changes nothing.
        let again = try d.http("POST", "/v1/registry", body: Array(Self.r1.utf8), headers: asAdmin)
        #expect(again.status == 200 && again.body.contains("\"added\":0,\"removed\":0,\"changed\":0"))
    }

    @Test func sighupReloadsTheRegistryFile() throws {
        let dir = scratch("sighup")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/registry.csv"
        try write(file, Self.r0)
        let d = try DaemonProcess(data: dir + "/serve", registry: file, extra: ["--idle-timeout", "1h"])
        defer { d.stop() }
        let c = try LineClient(port: d.tcpPort)
        let m9 = "i,M9,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,7\n!sync\n"
        try c.send(m9)
        #expect(try c.readLine() == "ok 0 1")
        // A bad file: logged with its line, the old registry stays.
        try write(file, Self.r1 + "M 10,CN-GD,,,,,\n")
        kill(d.process.processIdentifier, SIGHUP)
        var logged = ""
        for _ in 0..<250 {
            logged = String(decoding: (try? Files.read(d.log)) ?? [], as: UTF8.self)
            if logged.contains("registry not reloaded") { break }
            usleep(20_000)
        }
        #expect(logged.contains("registry not reloaded") && logged.contains("registry.csv:6: meter_id 'M 10'"), "\(logged)")
        try c.send(m9)
        #expect(try c.readLine() == "ok 0 1")
        // A good one.
        try write(file, Self.r1)
        kill(d.process.processIdentifier, SIGHUP)
        var answer = ""
        for _ in 0..<250 {
            try c.send(m9)
            answer = try c.readLine()
            if answer == "ok 1 0" { break }
            usleep(20_000)
        }
        #expect(answer == "ok 1 0")
        #expect(d.process.isRunning)
    }

    @Test func registryEditedWhileDownIsAppliedAtStart() throws {
        let dir = scratch("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/registry.csv"
        try write(file, Self.r0)
        var d = try DaemonProcess(data: dir + "/serve", registry: file, extra: ["--idle-timeout", "1h"])
        let m9 = Array("i,M9,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,7\n".utf8)
        #expect(try d.http("POST", "/v1/records", body: m9).body.contains("\"rejected\":1"))
        #expect(d.stop() == 0)
        try write(file, Self.r1)
        d = try DaemonProcess(data: dir + "/serve", registry: file, extra: ["--idle-timeout", "1h"])
        #expect(try d.http("POST", "/v1/records", body: m9).body.contains("\"accepted\":1"))
        d.crash()
        #expect(String(decoding: try Files.read(d.log), as: UTF8.self).contains("differs from the registry recovered"))
        d = try DaemonProcess(data: dir + "/serve", registry: file, extra: ["--idle-timeout", "1h"])
        defer { d.stop() }
        // Recovered with M9, and the file is what was applied: no second reload.
        #expect(try d.http("POST", "/v1/records", body: Array("i,M9,2026-11-18T10:15:00+08:00,2026-11-18T10:30:00+08:00,7\n".utf8)).body.contains("\"accepted\":1"))
        let log = String(decoding: try Files.read(d.log), as: UTF8.self)   // this start's log only
        #expect(!log.contains("differs from the registry recovered"), "\(log)")
    }

    func aggregates(_ data: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for f in try Files.walk(data + "/aggregates", suffix: ".csv.zst") {
            out[String(f.dropFirst(data.count))] = try Files.read(f)
        }
        return out
    }

    /// Feeds half the example, reloads the registry (file and POST), feeds the rest, then either
    /// stops gracefully or is killed with -9, and restarts with a short idle timeout so that the
    /// wall clock closes every window. Returns the data folder.
    func run(_ dir: String, crash: Bool, checkpointEveryBatch: Bool) throws -> String {
        let file = dir + "/registry.csv"
        let data = dir + "/serve"
        try write(file, Self.r0)
        let lines = String(decoding: try Files.read(Self.example + "/records.csv"), as: UTF8.self)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        let extra = checkpointEveryBatch ? ["--checkpoint-bytes", "1", "--wal-segment-bytes", "4096"] : []
        var d = try DaemonProcess(data: data, registry: file, extra: ["--idle-timeout", "1h"] + extra)
        let tcp = try LineClient(port: d.tcpPort)
        try tcp.send(lines[..<10].joined(separator: "\n") + "\n!sync\n")
        #expect(try tcp.readLine().hasPrefix("ok "))
        try write(file, Self.r1)
        let reload = try d.http("POST", "/v1/registry", body: Array(Self.r1.utf8))
        #expect(reload.status == 200)
        try tcp.send(lines[10...].joined(separator: "\n") + "\ni,M9,2026-11-18T10:45:00+08:00,2026-11-18T11:00:00+08:00,7\n!sync\n")
        #expect(try tcp.readLine().hasPrefix("ok "))
        if crash { d.crash() } else { #expect(d.stop() == 0) }
        d = try DaemonProcess(data: data, registry: file, extra: ["--idle-timeout", "1s"] + extra)
        for _ in 0..<500 {
            if ((try? Files.walk(data + "/aggregates", suffix: ".csv.zst")) ?? []).count >= 6 { break }
            usleep(20_000)
        }
        usleep(300_000)
        #expect(d.stop() == 0)
        return data
    }

    @Test(arguments: [false, true])
    func killNineAfterAReloadRestartsToTheSameFiles(checkpointEveryBatch: Bool) throws {
        let dir = scratch("crash")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: true)
        let clean = try aggregates(run(dir + "/a", crash: false, checkpointEveryBatch: checkpointEveryBatch))
        let crashed = try aggregates(run(dir + "/b", crash: true, checkpointEveryBatch: checkpointEveryBatch))
        #expect(clean.count >= 6)
        #expect(clean.keys.sorted() == crashed.keys.sorted())
        for (k, v) in clean { #expect(crashed[k] == v, "\(k)") }
        // The reload took: M2's city after it, and M9's energy.
        let hour = String(decoding: try Zstd.decompress(clean["/aggregates/window=1h/date=2026-11-18/1000.csv.zst"] ?? []), as: UTF8.self)
        #expect(hour.contains("city,CN-GD-GZ,") && hour.contains("city,CN-BJ-BJ,7,"), "\(hour)")
        if checkpointEveryBatch {
            #expect(try Files.list(dir + "/b/serve/checkpoint").contains { $0.hasPrefix("checkpoint-") })
        }
    }
}
