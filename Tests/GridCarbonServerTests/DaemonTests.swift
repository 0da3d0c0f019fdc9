import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonModel

/// The daemon over real sockets: what goes in over TCP and HTTP ends up in the same files as a
/// `replay` of the same lines; a `kill -9` loses nothing that was acknowledged.
@Suite(.serialized)
struct DaemonTests {
    let example = DaemonProcess.example

    func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-daemon-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The example's record lines, comment and blank lines dropped.
    var lines: [String] {
        String(decoding: (try? Files.read(example + "/records.csv")) ?? [], as: UTF8.self)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    }

    func replay(_ lines: [String], into dir: String) throws {
        let input = dir + "/input.csv"
        try Files.writeAtomically(input, Array((lines.joined(separator: "\n") + "\n").utf8), sync: false)
        var job = ReplayJob(registryPath: example + "/registry.csv", dataDirectory: dir + "/data", inputs: [input])
        job.sync = false
        _ = try Replay.run(job)
    }

    func aggregates(_ data: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for f in try Files.walk(data + "/aggregates", suffix: ".csv.zst") {
            out[String(f.dropFirst(data.count))] = try Files.read(f)
        }
        return out
    }

    /// Waits until the daemon has written `count` aggregate files (the idle watermark closes them).
    func waitForFiles(_ data: String, _ count: Int) throws {
        for _ in 0..<500 {
            if ((try? Files.walk(data + "/aggregates", suffix: ".csv.zst")) ?? []).count >= count { return }
            usleep(20_000)
        }
        Issue.record("daemon wrote \(((try? Files.walk(data + "/aggregates", suffix: ".csv.zst")) ?? []).count) files, expected \(count)")
    }

    @Test func tcpAndHTTPIngestEqualReplay() throws {
        let dir = scratch("ingest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: example + "/registry.csv", extra: ["--idle-timeout", "1s"])
        let all = lines
        let half = all.count / 2
        // First half over TCP, in two batches, each acknowledged once durable.
        let tcp = try LineClient(port: d.tcpPort)
        try tcp.send(all[..<5].joined(separator: "\n") + "\n!sync\n")
        #expect(try tcp.readLine() == "ok 5 0")
        try tcp.send(all[5..<half].joined(separator: "\n") + "\n!sync\n")
        let second = try tcp.readLine()
        #expect(second.hasPrefix("ok "))
        // The rest over HTTP.
        let r = try d.http("POST", "/v1/records", body: Array((all[half...].joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 200)
        #expect(r.body.contains("\"rejected\":2"))
        #expect(r.body.contains("\"reason\":\"unknown_meter\""))
        try waitForFiles(dir + "/serve", 6)
        let agg = try d.http("GET", "/v1/aggregates?window=1h&level=province")
        #expect(agg.status == 200 && agg.body.contains("\"key\":\"CN-GD\""))
        #expect(try d.http("GET", "/v1/aggregates?window=7m").status == 400)
        #expect(try d.http("GET", "/v1/totals?level=province&key=CN-GD").body.contains("\"key\":\"CN-GD\""))
        let metrics = try d.http("GET", "/metrics").body
        #expect(metrics.contains("gridcarbon_records_total{outcome=\"accepted\"}"))
        #expect(metrics.contains("gridcarbon_records_accepted_by_kind_total{kind=\"r\"}"))
        #expect(metrics.contains("gridcarbon_open_slots"))
        #expect(metrics.contains("gridcarbon_wal_bytes"))
        #expect(d.stop() == 0)
        try replay(all, into: dir + "/replay")
        let served = try aggregates(dir + "/serve"), replayed = try aggregates(dir + "/replay/data")
        #expect(served.keys.sorted() == replayed.keys.sorted())
        for (k, v) in replayed { #expect(served[k] == v, "\(k)") }
    }

    @Test func killNineLosesNothingAcknowledged() throws {
        let dir = scratch("crash")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let all = lines
        var d = try DaemonProcess(data: dir + "/serve", registry: example + "/registry.csv", extra: ["--idle-timeout", "1h"])
        let tcp = try LineClient(port: d.tcpPort)
        try tcp.send(all[..<14].joined(separator: "\n") + "\n!sync\n")
        #expect(try tcp.readLine().hasPrefix("ok "))
        d.crash()
        d = try DaemonProcess(data: dir + "/serve", registry: example + "/registry.csv", extra: ["--idle-timeout", "1s"])
        let tcp2 = try LineClient(port: d.tcpPort)
        try tcp2.send(all[14...].joined(separator: "\n") + "\n!sync\n")
        #expect(try tcp2.readLine().hasPrefix("ok "))
        try waitForFiles(dir + "/serve", 6)
        #expect(d.stop() == 0)
        try replay(all, into: dir + "/replay")
        let served = try aggregates(dir + "/serve"), replayed = try aggregates(dir + "/replay/data")
        #expect(served.keys.sorted() == replayed.keys.sorted())
        for (k, v) in replayed { #expect(served[k] == v, "\(k)") }
        // Side outputs hold each rejection once, though the first process's log was replayed.
        let rejected = try Files.walk(dir + "/serve/rejected", suffix: ".zst").flatMap { f in
            String(decoding: try Zstd.decompress(Files.read(f)), as: UTF8.self).split(separator: "\n")
        }
        #expect(rejected.count == 2)
    }

    @Test func badRequestsGetJSONErrors() throws {
        let dir = scratch("errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: example + "/registry.csv")
        defer { d.stop() }
        let notZstd = try d.http("POST", "/v1/records", body: Array("r,M1,1,1\n".utf8), headers: ["Content-Encoding": "zstd"])
        #expect(notZstd.status == 400 && notZstd.body.contains("\"error\":\"bad_encoding\""))
        let brotli = try d.http("POST", "/v1/records", body: [1, 2, 3], headers: ["Content-Encoding": "br"])
        #expect(brotli.status == 415)
        #expect(try d.http("GET", "/v1/totals?level=planet").status == 400)
        #expect(try d.http("GET", "/nope").status == 404)
        // zstd-compressed bodies are accepted.
        let z = try Zstd.compress(Array("r,M1,2026-11-18T10:00:00+08:00,1000\n".utf8))
        let ok = try d.http("POST", "/v1/records", body: z, headers: ["Content-Encoding": "zstd"])
        #expect(ok.status == 200 && ok.body.contains("\"accepted\":1"))
    }
}

/// Bearer tokens and limits (§6): 401 without a token, 403 without the role, 413 for a body over
/// the bound; TCP producers authenticate with `!auth TOKEN`.
@Suite(.serialized)
struct AuthTests {
    @Test func tokensRolesAndLimits() throws {
        let dir = NSTemporaryDirectory() + "gridcarbon-auth-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ingest = "ingest-token-0123456789", reader = "read-token-0123456789ab", admin = "admin-token-0123456789a"
        try Files.writeAtomically(dir + "/tokens", Array("# role token\ningest \(ingest)\nread \(reader)\nadmin \(admin)\n".utf8), sync: false)
        try Files.writeAtomically(dir + "/config.json", Array(#"{"max_body_bytes": "2000"}"#.utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--tokens", dir + "/tokens", "--config", dir + "/config.json"], readyToken: reader)
        defer { d.stop() }
        let line = Array("r,M1,2026-11-18T10:00:00+08:00,1000\n".utf8)
        #expect(try d.http("GET", "/healthz").status == 200)
        let none = try d.http("POST", "/v1/records", body: line)
        #expect(none.status == 401 && none.body.contains("\"error\":\"unauthorized\""))
        #expect(try d.http("POST", "/v1/records", body: line, headers: ["Authorization": "Bearer wrong-token-000000000"]).status == 401)
        let forbidden = try d.http("POST", "/v1/records", body: line, headers: ["Authorization": "Bearer \(reader)"])
        #expect(forbidden.status == 403 && forbidden.body.contains("\"error\":\"forbidden\""))
        #expect(try d.http("POST", "/v1/records", body: line, headers: ["Authorization": "Bearer \(ingest)"]).status == 200)
        #expect(try d.http("POST", "/v1/records", body: line, headers: ["Authorization": "Bearer \(admin)"]).status == 200)
        #expect(try d.http("GET", "/v1/totals", headers: ["Authorization": "Bearer \(reader)"]).status == 200)
        #expect(try d.http("GET", "/metrics").status == 401)
        // Alerts are read with the read role.
        #expect(try d.http("GET", "/v1/alerts").status == 401)
        #expect(try d.http("GET", "/v1/alerts/stream").status == 401)
        #expect(try d.http("GET", "/v1/alerts", headers: ["Authorization": "Bearer \(ingest)"]).status == 403)
        #expect(try d.http("GET", "/v1/alerts", headers: ["Authorization": "Bearer \(reader)"]).body == "{\"alerts\":[],\"seq\":0}\n")
        let big = try d.http("POST", "/v1/records", body: [UInt8](repeating: 0x23, count: 5000), headers: ["Authorization": "Bearer \(ingest)"])
        #expect(big.status == 413 && big.body.contains("body_too_large"))
        // TCP: data before !auth closes the connection; a good token is acknowledged.
        let anonymous = try LineClient(port: d.tcpPort)
        try anonymous.send(line + Array("!sync\n".utf8))
        #expect(try anonymous.readLine().hasPrefix("error unauthorized"))
        let wrongRole = try LineClient(port: d.tcpPort)
        try wrongRole.send("!auth \(reader)\n")
        #expect(try wrongRole.readLine() == "error unauthorized: token unknown or without the ingest role")
        let producer = try LineClient(port: d.tcpPort)
        try producer.send("!auth \(ingest)\n")
        #expect(try producer.readLine() == "ok auth")
        try producer.send(Array("r,M1,2026-11-18T10:15:00+08:00,1001\n!sync\n".utf8))
        #expect(try producer.readLine() == "ok 1 0")
    }

    @Test func offLoopbackWithoutTokensRefusesToStart() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        p.arguments = ["serve", "--http", "0.0.0.0:0", "--data", NSTemporaryDirectory() + "gridcarbon-noauth-\(getpid())"]
        let pipe = Pipe()
        p.standardError = pipe
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 2)
        let err = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(err.contains("--tokens"))
    }
}

/// SIGHUP re-reads the factor tables through the log: later slots use the new table, and the
/// daemon keeps serving.
@Suite(.serialized)
struct ReloadTests {
    @Test func sighupReloadsFactorTables() throws {
        let dir = NSTemporaryDirectory() + "gridcarbon-reload-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = String(decoding: try Files.read(TestRepository.data + "/cn_grid_factors.csv"), as: UTF8.self)
        try Files.writeAtomically(dir + "/factors.csv", Array(table.utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--factors", dir + "/factors.csv", "--idle-timeout", "1h"])
        defer { d.stop() }
        let c = try LineClient(port: d.tcpPort)
        // M2 is in Guangdong: one slot before the reload, one after.
        try c.send("i,M2,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,10\ni,M2,2026-11-18T11:30:00+08:00,2026-11-18T11:45:00+08:00,1\n!sync\n")
        #expect(try c.readLine() == "ok 2 0")
        // Guangdong 2023 becomes 0.9; a SIGHUP applies it.
        try Files.writeAtomically(dir + "/factors.csv", Array(table.replacingOccurrences(of: "2023,CN-GD,Guangdong,广东,0.4419", with: "2023,CN-GD,Guangdong,广东,0.9").utf8), sync: false)
        kill(d.process.processIdentifier, SIGHUP)
        usleep(500_000)
        #expect(d.process.isRunning)
        try c.send("i,M2,2026-11-18T13:00:00+08:00,2026-11-18T13:15:00+08:00,1\n!sync\n")
        #expect(try c.readLine() == "ok 1 0")
        let before = try Zstd.decompress(Files.read(dir + "/serve/aggregates/window=15m/date=2026-11-18/1000.csv.zst"))
        #expect(String(decoding: before, as: UTF8.self).contains("province,CN-GD,10,4.419,0.4419"))
        let after = try Zstd.decompress(Files.read(dir + "/serve/aggregates/window=15m/date=2026-11-18/1130.csv.zst"))
        #expect(String(decoding: after, as: UTF8.self).contains("province,CN-GD,1,0.9,0.9"))
    }
}
