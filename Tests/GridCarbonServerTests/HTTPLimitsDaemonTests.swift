import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP load bounds of the real daemon (reference §6): `max_http_requests` at once (503
/// `overloaded` with `Retry-After: 1` beyond), and slow clients cut off after `http_idle_timeout`.
@Suite(.serialized)
struct HTTPLimitsDaemonTests {
    func daemon(_ name: String, config: String) throws -> (DaemonProcess, String) {
        let dir = NSTemporaryDirectory() + "gridcarbon-limits-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Files.writeAtomically(dir + "/config.json", Array(config.utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv", extra: ["--config", dir + "/config.json"])
        return (d, dir)
    }

    @Test func requestsBeyondTheBoundAreOverloaded() throws {
        let (d, dir) = try daemon("overload", config: #"{"max_http_requests": "2", "http_idle_timeout": "20s"}"#)
        defer { d.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let line = "r,M1,2026-11-18T10:00:00+08:00,1000\n"
        // Two requests in flight: their heads sent, their bodies not finished.
        let port = d.httpPort
        func hold() throws -> RawHTTP {
            let h = try RawHTTP(port: port)
            #expect(h.send(RawHTTP.head("POST", "/v1/records", length: line.utf8.count, headers: ["Connection": "close"]) + line.prefix(10)))
            return h
        }
        var held = try [hold(), hold()]
        // A third is refused once both are counted. A probe that came in first may have had a held
        // request refused instead (it has an answer then): that one is sent again. Once a probe is
        // refused, the two requests in flight are the held ones.
        var refused = ""
        for _ in 0..<500 where RawHTTP.status(refused) != 503 {
            for i in held.indices where held[i].readable(within: 0) { held[i] = try hold() }
            let third = try RawHTTP(port: d.httpPort)
            third.send(RawHTTP.head("GET", "/v1/totals", length: 0, headers: ["Connection": "close"]))
            refused = third.readToEnd()
            if RawHTTP.status(refused) != 503 { usleep(10_000) }
        }
        #expect(RawHTTP.status(refused) == 503, "\(refused)")
        #expect(refused.lowercased().contains("retry-after: 1\r\n"), "\(refused)")
        #expect(refused.contains("\"error\":\"overloaded\""), "\(refused)")
        // /healthz is not counted.
        #expect(try d.http("GET", "/healthz").status == 200)
        // The two held requests finish normally, and then requests are served again.
        for h in held {
            #expect(h.send(String(line.dropFirst(10))))
            let answer = h.readToEnd()
            #expect(RawHTTP.status(answer) == 200, "\(answer)")
        }
        #expect(try d.http("GET", "/v1/totals").status == 200)
    }

    @Test func aBodyOfOneByteASecondIsCutOff() throws {
        let (d, dir) = try daemon("slowbody", config: #"{"http_idle_timeout": "2s"}"#)
        defer { d.stop(); try? FileManager.default.removeItem(atPath: dir) }
        for path in ["/v1/records", "/v1/registry"] {
            let slow = try RawHTTP(port: d.httpPort)
            #expect(slow.send(RawHTTP.head("POST", path, length: 1000)))
            var sent = 0
            // One byte a second until the daemon answers (at most 30 s: the test fails then).
            while sent < 30 && !slow.readable(within: 1000) {
                slow.send("r")
                sent += 1
            }
            let answer = slow.readToEnd()
            #expect(RawHTTP.status(answer) == 408, "\(path) after \(sent) bytes: \(answer)")
            #expect(answer.contains("\"error\":\"slow_client\""), "\(path): \(answer)")
        }
        // The daemon closed the connection after the answer (readToEnd saw its end) and still serves.
        #expect(try d.http("POST", "/v1/records", body: Array("r,M1,2026-11-18T10:00:00+08:00,1000\n".utf8)).status == 200)
    }

    @Test func aHeadOfOneByteASecondIsClosed() throws {
        let (d, dir) = try daemon("slowhead", config: #"{"http_idle_timeout": "2s"}"#)
        defer { d.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let slow = try RawHTTP(port: d.httpPort)
        #expect(slow.send("POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "))
        var sent = 0
        while sent < 30 && !slow.readable(within: 1000) {
            slow.send("a")
            sent += 1
        }
        #expect(sent < 30, "the daemon kept a head trickling in for 30 s")
        // Closed, possibly after an answer; never a request taken.
        let rest = slow.readToEnd()
        #expect(rest.isEmpty || [400, 408].contains(RawHTTP.status(rest)), "\(rest)")
        // A keep-alive connection idle after its answer is closed too.
        let idle = try RawHTTP(port: d.httpPort)
        #expect(idle.send(RawHTTP.head("GET", "/healthz", length: 0)))
        var waited = 0
        var seen = ""
        while waited < 30 {
            if idle.readable(within: 1000) {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = recv(idle.client.fd, &buf, buf.count, 0)
                if n <= 0 { break }
                seen += String(decoding: buf[0..<n], as: UTF8.self)
            } else {
                waited += 1
            }
        }
        #expect(RawHTTP.status(seen) == 200 && waited < 30, "keep-alive connection not closed: \(seen)")
    }

    /// The timeout bounds the client, not the daemon: a body whose pieces take the daemon longer
    /// than `http_idle_timeout` to store is taken whole.
    @Test func storingLongerThanTheTimeoutIsNotCutOff() throws {
        let (d, dir) = try daemon("longstore", config: #"{"http_idle_timeout": "250ms"}"#)
        defer { d.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let n = 200_000
        var body: [UInt8] = []
        for i in 0..<n {
            let m = i % 60, h = 8 + (i / 60) % 12
            body += Array("r,M\(1 + i % 3),2026-11-18T\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00+08:00,\(1000 + i)\n".utf8)
        }
        let r = try d.http("POST", "/v1/records", body: body)
        #expect(r.status == 200, "\(r.body)")
        let counts = r.body.split(separator: ",").prefix(4).compactMap { Int($0.split(separator: ":").last ?? "") }
        #expect(counts.reduce(0, +) == n, "\(r.body.prefix(300))")
    }

    /// With the smallest engine queue, TCP and HTTP producers at once are slowed, not failed: every
    /// line is answered for.
    @Test func producersShareASmallEngineQueue() throws {
        let (d, dir) = try daemon("queue", config: #"{"engine_queue_bytes": "65536", "fsync": "never"}"#)
        defer { d.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let perProducer = 20_000
        let bodies: [[UInt8]] = (0..<6).map { p in
            var out: [UInt8] = []
            for i in 0..<perProducer {
                let m = i % 60, h = 8 + (i / 60) % 12
                out += Array("r,M\(1 + p % 3),2026-11-18T\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00+08:00,\(1000 + i)\n".utf8)
            }
            return out
        }
        let counted = NIOLockedCounter()
        let failures = NIOLockedCounter()
        let tcpPort = d.tcpPort, httpPort = d.httpPort
        DispatchQueue.concurrentPerform(iterations: 6) { p in
            do {
                if p < 4 {
                    let c = try LineClient(port: tcpPort)
                    try c.send(bodies[p] + Array("!sync\n".utf8))
                    let answer = try c.readLine().split(separator: " ")
                    if answer.count == 3, answer[0] == "ok", let a = Int(answer[1]), let r = Int(answer[2]) {
                        for _ in 0..<(a + r) { counted.add() }
                    } else { failures.add() }
                } else {
                    let raw = try RawHTTP(port: httpPort)
                    raw.send(Array(RawHTTP.head("POST", "/v1/records", length: bodies[p].count, headers: ["Connection": "close"]).utf8) + bodies[p])
                    let answer = raw.readToEnd()
                    let json = answer.components(separatedBy: "\r\n\r\n").last ?? ""
                    let counts = json.split(separator: ",").prefix(4).compactMap { Int($0.split(separator: ":").last ?? "") }
                    if RawHTTP.status(answer) == 200 && counts.count == 4 { for _ in 0..<counts.reduce(0, +) { counted.add() } } else { failures.add() }
                }
            } catch { failures.add() }
        }
        #expect(failures.value == 0)
        #expect(counted.value == 6 * perProducer)
        // The producers did wait for the engine (the queue was at its bound), and nothing is queued now.
        let metrics = try d.http("GET", "/metrics").body
        func value(_ name: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect((value("gridcarbon_engine_queue_waits_total") ?? 0) > 0, "\(metrics)")
        #expect(value("gridcarbon_engine_queue_bytes") == 0)
    }
}
