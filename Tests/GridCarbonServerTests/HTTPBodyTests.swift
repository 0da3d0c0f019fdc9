import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonServer
import NIOCore

/// `POST /v1/records` reads its body as a stream (reference §6): the same line limit and reason as
/// TCP, line numbers across the pieces a large body is taken in, and `max_body_bytes` applied to
/// the decoded bytes of a zstd or gzip bomb, whose decoding stops at the limit.
@Suite(.serialized)
struct HTTPBodyTests {
    func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-body-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A register reading of M1 at minute `i` after 2026-11-18 08:00 (+08:00).
    static func reading(_ i: Int) -> String {
        let h = 8 + i / 60, m = i % 60
        return "r,M1,2026-11-18T\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00+08:00,\(1000 + i)\n"
    }

    @Test func aLongLineIsLineTooLongAsOverTCP() throws {
        let dir = scratch("long")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv")
        defer { d.stop() }
        let long = "r,M1,2026-11-18T08:01:00+08:00," + String(repeating: "1", count: 200_000) + "\n"
        let body = Self.reading(0) + long + Self.reading(2)
        let r = try d.http("POST", "/v1/records", body: Array(body.utf8))
        #expect(r.status == 200)
        #expect(r.body.contains("\"accepted\":2,"), "\(r.body)")
        #expect(r.body.contains("\"rejected\":1,"), "\(r.body)")
        #expect(r.body.contains("{\"line\":2,\"reason\":\"line_too_long\",\"text\":\"r,M1,2026-11-18T08:01:00+08:00,111"), "\(r.body)")
        #expect(!r.body.contains("bad_number"))
        // The same line without newline at the end of the body: rejected once, the same way.
        let last = try d.http("POST", "/v1/records", body: Array((Self.reading(3) + long.dropLast()).utf8))
        #expect(last.status == 200 && last.body.contains("\"accepted\":1,") && last.body.contains("\"rejected\":1,"), "\(last.body)")
        #expect(last.body.contains("{\"line\":2,\"reason\":\"line_too_long\""), "\(last.body)")
    }

    @Test func aLargeBodyIsTakenInPiecesWithBodyLineNumbers() throws {
        let dir = scratch("large")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv")
        defer { d.stop() }
        // About 3.6 MB: more than three pieces of 1 MiB (repeats of one reading: duplicates). One
        // bad line near the end.
        var body: [UInt8] = []
        let n = 100_000
        let good = Array("r,M1,2026-11-18T08:00:00+08:00,1000\n".utf8), bad = Array("r,M1,2026-11-18T08:00:00+08:00,not-a-number\n".utf8)
        for i in 0..<n { body += i == n - 5 ? bad : good }
        let z = try Zstd.compress(body)
        for (encoding, bytes) in [("identity", body), ("zstd", z)] {
            let r = try d.http("POST", "/v1/records", body: bytes, headers: ["Content-Encoding": encoding])
            #expect(r.status == 200, "\(r.body)")
            #expect(r.body.contains("\"rejections\":[{\"line\":\(n - 4),"), "\(encoding): \(r.body.prefix(400))")
            let counts = r.body.split(separator: ",").prefix(4).compactMap { Int($0.split(separator: ":").last ?? "") }
            #expect(counts.reduce(0, +) == n, "\(encoding): \(r.body.prefix(200))")
        }
    }

    /// A zstd bomb: 64 frames of 64 MiB of newlines each (4 GiB), a few kilobytes on the wire.
    static func zstdBomb() throws -> [UInt8] {
        let frame = try Zstd.compress([UInt8](repeating: 0x0A, count: 64 << 20))
        return Array([[UInt8]](repeating: frame, count: 64).joined())
    }

    /// A gzip bomb: 256 MiB of newlines, about 260 KB, from the system's `gzip`.
    static func gzipBomb() throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "head -c 268435456 /dev/zero | tr '\\0' '\\n' | gzip -9"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0 && data.count > 1000, "gzip is needed for this test")
        return Array(data)
    }

    @Test func decodingStopsAtTheLimit() throws {
        let limit = 1 << 20
        for (encoding, bomb) in [("zstd", try Self.zstdBomb()), ("gzip", try Self.gzipBomb())] {
            let decoder = try HTTPBodyDecoder(encoding: encoding, limit: limit)
            var seen = 0
            var stopped: APIError?
            var piece = 0
            while piece * 65536 < bomb.count && stopped == nil {
                let part = ByteBuffer(bytes: bomb[(piece * 65536)..<min(bomb.count, (piece + 1) * 65536)])
                do { try decoder.feed(part) { seen += $0.count } } catch let e as APIError { stopped = e }
                piece += 1
            }
            #expect(stopped?.code == "body_too_large" && stopped?.status == .contentTooLarge, "\(encoding)")
            // Nothing past the limit was handed on, and decoding stopped within one output chunk of it.
            #expect(seen <= limit, "\(encoding): \(seen)")
            #expect(decoder.decoded <= limit + 65536, "\(encoding): decoded \(decoder.decoded)")
        }
    }

    @Test func bombsAreAnswered413() throws {
        let dir = scratch("bomb")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/config.json", Array(#"{"max_body_bytes": "1048576"}"#.utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv", extra: ["--config", dir + "/config.json"])
        defer { d.stop() }
        for (encoding, bomb) in [("zstd", try Self.zstdBomb()), ("gzip", try Self.gzipBomb())] {
            #expect(bomb.count < 1 << 20)
            let r = try d.http("POST", "/v1/records", body: bomb, headers: ["Content-Encoding": encoding])
            #expect(r.status == 413, "\(encoding): \(r.status) \(r.body)")
            #expect(r.body.contains("\"error\":\"body_too_large\""), "\(encoding): \(r.body)")
        }
        // A plain body over the limit is refused from its Content-Length; a body under it is taken.
        let big = try d.http("POST", "/v1/records", body: [UInt8](repeating: 0x0A, count: (1 << 20) + 1))
        #expect(big.status == 413 && big.body.contains("body_too_large"))
        let ok = try d.http("POST", "/v1/records", body: Array(Self.reading(0).utf8), headers: ["Content-Encoding": "gzip"])
        #expect(ok.status == 400 && ok.body.contains("bad_encoding"), "not gzip: \(ok.body)")
        #expect(try d.http("POST", "/v1/records", body: Array(Self.reading(0).utf8)).body.contains("\"accepted\":1,"))
        #expect(try d.http("POST", "/v1/records", body: [1], headers: ["Content-Encoding": "br"]).status == 415)
    }

    /// However the body's bytes are split on arrival, the pieces are the same: whole lines in
    /// order, each over-long line once by its first 256 bytes, body line numbers.
    @Test func piecesDoNotDependOnHowTheBodyArrives() {
        var body: [UInt8] = []
        var expected: [String] = []
        for i in 0..<300 {
            if i % 50 == 7 {
                let long = "L\(i)," + String(repeating: "x", count: 3000)
                body += Array((long + "\n").utf8)
                expected.append("too long \(i + 1): " + String(long.prefix(256)))
            } else {
                body += Array("r,M\(i),\(i)\n".utf8)
                expected.append("line \(i + 1): r,M\(i),\(i)")
            }
        }
        body += Array("last-without-newline".utf8)
        expected.append("line 301: last-without-newline")
        for size in [1, 2, 7, 255, 256, 257, 1000, 4096, body.count] {
            var lines = HTTPBodyLines(maxLineBytes: 1000, batchBytes: 512)
            var got: [String] = []
            func collect() {
                for piece in lines.take() {
                    switch piece {
                    case .lines(let bytes, let first, let count):
                        #expect(bytes.last == 0x0A)
                        let split = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
                        #expect(Int64(split.count) == count)
                        for (k, l) in split.enumerated() { got.append("line \(first + Int64(k)): " + String(decoding: l, as: UTF8.self)) }
                    case .tooLong(let prefix, let line):
                        #expect(prefix.count == 257 && prefix.last == 0x0A)
                        got.append("too long \(line): " + String(decoding: prefix.dropLast(), as: UTF8.self))
                    }
                }
            }
            var at = 0
            while at < body.count {
                let end = min(body.count, at + size)
                body[at..<end].withUnsafeBytes { lines.feed($0) }
                collect()
                at = end
            }
            lines.finish()
            collect()
            #expect(got == expected, "chunks of \(size)")
        }
    }
}
