import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// TCP ingest tried as an attacker and as a careless client would (reference §6), against the
/// real daemon over real sockets: nothing before `!auth` reaches the daemon, an over-long line is
/// one rejection however it arrives, a half-closing client gets its `!sync` answers, silent
/// connections and connections over the limit are closed.
@Suite(.serialized)
struct TCPHardeningTests {
    static let ingest = "ingest-token-0123456789", reader = "read-token-0123456789ab"
    static let record = "r,M1,2026-11-18T10:00:00+08:00,1000\n"

    func scratch(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-tcp-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Sends `bytes` in pieces of `piece` bytes (0: one write), without SIGPIPE; stops quietly when
    /// the daemon has closed the connection (what it answered is then read by the caller).
    func send(_ c: LineClient, _ bytes: [UInt8], piece: Int = 0) {
        var at = 0
        let step = piece > 0 ? piece : bytes.count
        while at < bytes.count {
            let n = bytes.withUnsafeBytes { p in
                Glibc.send(c.fd, p.baseAddress! + at, min(step, bytes.count - at), Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            at += n
            if piece > 0 { usleep(100) }
        }
    }

    /// Everything the daemon sends until it closes the connection.
    func answer(_ c: LineClient) -> String { String(decoding: c.readAll(), as: UTF8.self) }

    /// The sum of the `gridcarbon_records_total` counters (every outcome).
    func recordsCounted(_ d: DaemonProcess) throws -> Double {
        let metrics = try d.http("GET", "/metrics", headers: ["Authorization": "Bearer \(Self.reader)"])
        #expect(metrics.status == 200)
        let lines = metrics.body.split(separator: "\n").filter { $0.hasPrefix("gridcarbon_records_total") }
        #expect(!lines.isEmpty, "no gridcarbon_records_total in /metrics")
        return lines.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// Every object written to `DATA/rejected/`.
    func rejectedLines(_ data: String) throws -> [String] {
        let dir = data + "/rejected"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        var out: [String] = []
        for f in files {
            let text = String(decoding: try Zstd.decompress(try Files.read(dir + "/" + f)), as: UTF8.self)
            out += text.split(separator: "\n").map(String.init)
        }
        return out
    }

    @Test func nothingBeforeAuthReachesTheDaemon() throws {
        let dir = try scratch("auth")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/tokens", Array("ingest \(Self.ingest)\nread \(Self.reader)\n".utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--tokens", dir + "/tokens", "--idle-timeout", "1h"], readyToken: Self.reader)
        defer { d.stop() }
        let firstLine = "error unauthorized: send !auth TOKEN first\n"
        let long = [UInt8](repeating: 0x78, count: 300_000)
        // Each attempt gets one error line and the connection is closed.
        let attempts: [(String, [UInt8], Int)] = [
            ("a record and !sync", Array((Self.record + "!sync\n").utf8), 0),
            ("!sync alone", Array("!sync\n".utf8), 0),
            ("an over-long line in one write", long + Array("\n!sync\n".utf8), 0),
            ("an over-long line in small writes", long + Array("\n!sync\n".utf8), 1000),
            ("an over-long line without newline", long, 0),
            ("an unknown command", Array("!stats\n".utf8), 0),
        ]
        for (name, bytes, piece) in attempts {
            let c = try LineClient(port: d.tcpPort)
            send(c, bytes, piece: piece)
            #expect(answer(c) == firstLine, "\(name)")
        }
        let wrong = try LineClient(port: d.tcpPort)
        send(wrong, Array("!auth wrong-token-000000000\n\(Self.record)!sync\n".utf8))
        #expect(answer(wrong) == "error unauthorized: token unknown or without the ingest role\n")
        let reader = try LineClient(port: d.tcpPort)
        send(reader, Array("!auth \(Self.reader)\n\(Self.record)!sync\n".utf8))
        #expect(answer(reader) == "error unauthorized: token unknown or without the ingest role\n")
        // Nothing counted, nothing in the log.
        #expect(try recordsCounted(d) == 0)
        // `Bearer` in any case on HTTP.
        #expect(try d.http("GET", "/v1/totals", headers: ["Authorization": "bearer \(Self.reader)"]).status == 200)
        #expect(try d.http("GET", "/v1/totals", headers: ["Authorization": "BEARER \(Self.reader)"]).status == 200)
        #expect(try d.http("GET", "/v1/totals", headers: ["Authorization": "Basic \(Self.reader)"]).status == 401)
        // An authorised producer is counted: the check above can fail.
        let producer = try LineClient(port: d.tcpPort)
        try producer.send("!auth \(Self.ingest)\n" + Self.record + "!sync\n")
        #expect(try producer.readLine() == "ok auth")
        #expect(try producer.readLine() == "ok 1 0")
        #expect(try recordsCounted(d) == 1)
        #expect(d.stop() == 0)
        #expect(try rejectedLines(dir + "/serve") == [])
    }

    @Test func oneOverlongLineIsOneRejection() throws {
        let dir = try scratch("long")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv", extra: ["--idle-timeout", "1h"])
        let long = [UInt8](repeating: 0x78, count: 300_000)
        // Many small writes: the daemon's reads split the line anywhere.
        let split = try LineClient(port: d.tcpPort)
        send(split, Array(Self.record.utf8) + long + Array("\n!sync\n".utf8), piece: 1000)
        #expect(try split.readLine() == "ok 1 1")
        // One write.
        let whole = try LineClient(port: d.tcpPort)
        send(whole, long + Array("\n!sync\n".utf8))
        #expect(try whole.readLine() == "ok 0 1")
        // Two over-long lines back to back, and a good line after them.
        let two = try LineClient(port: d.tcpPort)
        send(two, long + [0x0A] + long + [0x0A] + Array("r,M1,2026-11-18T10:15:00+08:00,1001\n!sync\n".utf8), piece: 4096)
        #expect(try two.readLine() == "ok 1 2")
        #expect(d.stop() == 0)
        let rejected = try rejectedLines(dir + "/serve")
        #expect(rejected.count == 4 && rejected.allSatisfy { $0.contains("\"line_too_long\"") }, "\(rejected.map { $0.prefix(80) })")
    }

    @Test func syncIsAnsweredAfterHalfClose() throws {
        let dir = try scratch("halfclose")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv", extra: ["--idle-timeout", "1h"])
        defer { d.stop() }
        // `printf 'r,…\n!sync\n' | socat - TCP:…`: the client shuts its sending side after !sync.
        let c = try LineClient(port: d.tcpPort)
        try c.send(Self.record + "!sync\n")
        #expect(shutdown(c.fd, Int32(SHUT_WR)) == 0)
        #expect(answer(c) == "ok 1 0\n")
        // A last line without newline is still a line; every !sync owed is answered.
        let more = try LineClient(port: d.tcpPort)
        try more.send("r,M1,2026-11-18T10:15:00+08:00,1001\n!sync\nbad line\n!sync\nr,M1,2026-11-18T10:30:00+08:00,1002\n!sync")
        #expect(shutdown(more.fd, Int32(SHUT_WR)) == 0)
        #expect(answer(more) == "ok 1 0\nok 0 1\nok 1 0\n")
        // Half-closing with nothing pending just closes.
        let quiet = try LineClient(port: d.tcpPort)
        #expect(shutdown(quiet.fd, Int32(SHUT_WR)) == 0)
        #expect(answer(quiet) == "")
    }

    @Test func silentConnectionsAreClosedAfterTheReadTimeout() throws {
        let dir = try scratch("timeout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--idle-timeout", "1h", "--read-timeout", "1s"])
        defer { d.stop() }
        let silent = try LineClient(port: d.tcpPort)
        #expect(answer(silent) == "error read timeout: nothing received for 1s\n")
        // One that sent lines before falling silent gets its answers, then the same.
        let talker = try LineClient(port: d.tcpPort)
        try talker.send(Self.record + "!sync\n")
        #expect(answer(talker) == "ok 1 0\nerror read timeout: nothing received for 1s\n")
    }

    @Test func connectionsBeyondTheLimitAreRefused() throws {
        let dir = try scratch("maxconn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--idle-timeout", "1h", "--max-connections", "2"])
        defer { d.stop() }
        var open: [LineClient] = []
        for _ in 0..<2 {
            let c = try LineClient(port: d.tcpPort)
            try c.send("!sync\n")
            #expect(try c.readLine() == "ok 0 0")
            open.append(c)
        }
        let third = try LineClient(port: d.tcpPort)
        #expect(answer(third) == "error too many connections (max_connections 2): try again later\n")
        // Closing one makes room again (the daemon notices the close on its own time).
        open.removeFirst()
        var admitted = false
        for _ in 0..<200 where !admitted {
            let c = try LineClient(port: d.tcpPort)
            send(c, Array("!sync\n".utf8))
            let line = (try? c.readLine()) ?? ""
            admitted = line == "ok 0 0"
            if !admitted { usleep(50_000) }
        }
        #expect(admitted)
        #expect(open.count == 1)
    }

    /// Resident memory of a process, in bytes (/proc/PID/status VmRSS).
    func residentBytes(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    @Test func aClientThatNeverReadsItsAnswersIsSlowedNotBuffered() throws {
        let dir = try scratch("noread")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv", extra: ["--idle-timeout", "1h"])
        defer { d.stop() }
        let before = try residentBytes(d.process.processIdentifier)
        // `!sync` with nothing pending is answered at once: 6 bytes in, 7 out. A client that
        // never reads must stop being read once its answers fill the socket, not make the daemon
        // queue answers without bound.
        let c = try LineClient(port: d.tcpPort)
        let flags = fcntl(c.fd, F_GETFL)
        _ = fcntl(c.fd, F_SETFL, flags | O_NONBLOCK)
        let chunk = Array(String(repeating: "!sync\n", count: 10_000).utf8)
        var sent = 0, stalled = 0, at = 0
        let start = Date()
        while Date().timeIntervalSince(start) < 3, sent < 512 << 20 {
            // Partial sends continue where they stopped: only whole `!sync` lines go out.
            let n = chunk.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress! + at, $0.count - at, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; at = (at + n) % chunk.count } else { stalled += 1; usleep(10_000) }
        }
        let after = try residentBytes(d.process.processIdentifier)
        // Socket buffers on loopback hold a few MiB each way; without backpressure the daemon
        // reads hundreds of MiB in 3 s and holds the answers.
        #expect(sent < 64 << 20, "the daemon kept reading: \(sent) bytes taken from a client that reads nothing")
        #expect(after - before < 128 << 20, "resident memory grew by \(after - before) bytes")
        #expect(stalled > 0, "the client was never slowed")
        // The daemon still answers others.
        let other = try LineClient(port: d.tcpPort)
        try other.send(Self.record + "!sync\n")
        #expect(try other.readLine() == "ok 1 0")
        withExtendedLifetime(c) {}
    }

    @Test func aClientThatNeverAuthenticatesIsClosed() throws {
        let dir = try scratch("authdeadline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/tokens", Array("ingest \(Self.ingest)\nread \(Self.reader)\n".utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--tokens", dir + "/tokens", "--idle-timeout", "1h", "--read-timeout", "1s"], readyToken: Self.reader)
        defer { d.stop() }
        // Sends a byte of `!auth` every 200 ms (never idle for the read timeout, never done).
        let c = try LineClient(port: d.tcpPort)
        let trickle = Array("!auth \(Self.ingest)".utf8)
        var answer = ""
        for b in trickle {
            send(c, [b])
            usleep(200_000)
            var byte: UInt8 = 0
            if recv(c.fd, &byte, 1, Int32(MSG_DONTWAIT)) == 1 { answer = String(decoding: [byte] + c.readAll(), as: UTF8.self); break }
        }
        #expect(answer == "error unauthorized: send !auth TOKEN first (within 1s)\n")
    }
}
