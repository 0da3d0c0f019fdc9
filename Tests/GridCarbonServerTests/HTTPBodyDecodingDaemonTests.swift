import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonServer

#if canImport(Glibc)
import Glibc
#endif

/// Compressed `POST /v1/records` bodies against the real daemon (reference §6): decoded step by
/// step at the pace the lines are stored, so memory stays far below the decoded size; a zstd frame
/// may not ask for a window over 8 MiB; a gzip member or zstd frame that does not end is 400
/// `bad_encoding` and its cut last line is not taken.
@Suite(.serialized)
struct HTTPBodyDecodingDaemonTests {
    func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-bodydec-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A register reading of M1 at minute `i` after 2026-11-18 08:00 (+08:00).
    static func reading(_ i: Int) -> String {
        let h = 8 + i / 60, m = i % 60
        return "r,M1,2026-11-18T\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m):00+08:00,\(1000 + i)\n"
    }

    /// A request with a long read timeout (a large body takes a while to store on a busy machine).
    static func post(_ d: DaemonProcess, _ body: [UInt8], encoding: String) throws -> (status: Int, body: String) {
        let c = try LineClient(host: "127.0.0.1", port: UInt16(d.httpPort), receiveTimeout: 600)
        let head = "POST /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\nContent-Encoding: \(encoding)\r\n\r\n"
        try c.send(Array(head.utf8) + body)
        let response = String(decoding: c.readAll(), as: UTF8.self)
        let status = Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// A field of /proc/PID/status in kB (VmHWM: the peak resident set).
    static func statusKB(_ pid: Int32, _ field: String) throws -> Int {
        let text = String(decoding: try Files.read("/proc/\(pid)/status"), as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
            throw IOError(path: "/proc/\(pid)/status", message: "no \(field)")
        }
        return kb
    }

    /// The four counts of an answer: accepted, duplicate, rejected, late.
    static func counts(_ body: String) -> [Int] {
        body.split(separator: ",").prefix(4).compactMap { Int($0.split(separator: ":").last ?? "") }
    }

    /// ~200 MB of lines in a zstd body of a few hundred kB: the daemon's peak resident set grows by
    /// far less than the decoded size, and every line is counted (the first accepted, the rest
    /// duplicates of it).
    @Test func aHighlyCompressedBodyIsDecodedInBoundedMemory() throws {
        let dir = scratch("rss")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/config.json", Array(#"{"max_body_bytes": "1073741824", "engine_queue_bytes": "4194304"}"#.utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv", extra: ["--config", dir + "/config.json"])
        defer { d.stop() }
        let line = Array(Self.reading(0).utf8)
        let n = 200_000_000 / line.count
        var plain = [UInt8](); plain.reserveCapacity(n * line.count)
        for _ in 0..<n { plain += line }
        let z = try Zstd.compress(plain)
        plain = []
        #expect(z.count < 1 << 20, "zstd body \(z.count) bytes")
        let pid = d.process.processIdentifier
        let before = try Self.statusKB(pid, "VmHWM")
        let r = try Self.post(d, z, encoding: "zstd")
        let peak = try Self.statusKB(pid, "VmHWM")
        #expect(r.status == 200, "\(r.status) \(r.body.prefix(300))")
        let c = Self.counts(r.body)
        #expect(c == [1, n - 1, 0, 0], "counts \(c) for \(n) lines: \(r.body.prefix(300))")
        // The decoded body is ~195 MiB; the daemon grows by a few MiB (the whole body in memory: 89 MiB and more).
        let grownMiB = (peak - before) / 1024
        print("peak resident set \(before / 1024) MiB before, \(peak / 1024) MiB after a \(n * line.count / (1 << 20)) MiB body")
        #expect(grownMiB < 32, "the daemon grew by \(grownMiB) MiB decoding a \(n * line.count / (1 << 20)) MiB body")
    }

    /// A zstd frame header asking for a window of 2^log bytes, then one raw last block of `content`.
    static func zstdFrame(windowLog: Int, _ content: [UInt8]) -> [UInt8] {
        let blockHeader = UInt32(content.count) << 3 | 1  // last block, raw
        return [0x28, 0xB5, 0x2F, 0xFD, 0x00, UInt8((windowLog - 10) << 3),
                UInt8(blockHeader & 0xFF), UInt8(blockHeader >> 8 & 0xFF), UInt8(blockHeader >> 16 & 0xFF)] + content
    }

    @Test func aZstdWindowOver8MiBIsBadEncoding() throws {
        let dir = scratch("window")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv")
        defer { d.stop() }
        let ok = try Self.post(d, Self.zstdFrame(windowLog: 23, Array(Self.reading(0).utf8)), encoding: "zstd")
        #expect(ok.status == 200 && Self.counts(ok.body) == [1, 0, 0, 0], "\(ok.status) \(ok.body)")
        let big = try Self.post(d, Self.zstdFrame(windowLog: 24, Array(Self.reading(1).utf8)), encoding: "zstd")
        #expect(big.status == 400 && big.body.contains("\"bad_encoding\"") && big.body.contains("window"), "\(big.status) \(big.body)")
        // Nothing of it was taken.
        let again = try Self.post(d, Self.zstdFrame(windowLog: 20, Array(Self.reading(1).utf8)), encoding: "zstd")
        #expect(again.status == 200 && Self.counts(again.body) == [1, 0, 0, 0], "\(again.body)")
    }

    static func gzip(_ input: [UInt8]) throws -> [UInt8] {
        let dir = NSTemporaryDirectory() + "gridcarbon-gz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Files.writeAtomically(dir, input, sync: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -1 -c < '\(dir)'"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 || data.count < 18 { throw IOError(path: dir, message: "gzip is needed for this test") }
        return Array(data)
    }

    /// Cut bodies: each 400 `bad_encoding`; the lines before the cut may be taken, the cut line
    /// never (a full resend then takes exactly the lines not taken, none rejected).
    @Test func aTruncatedGzipOrZstdBodyIsBadEncoding() throws {
        let dir = scratch("cut")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv")
        defer { d.stop() }
        var minute = 0
        for (encoding, cutAt) in [("gzip", 0.5), ("gzip", 1.0), ("zstd", 0.5), ("zstd", 1.0)] {
            let lines = (minute..<(minute + 40)).map { Self.reading($0) }
            minute += 40
            let plain = Array(lines.joined().utf8)
            let packed = encoding == "gzip" ? try Self.gzip(plain) : try Zstd.compress(plain, level: 1)
            // 1.0: only the last few bytes (gzip trailer, zstd end of block) are missing.
            let keep = cutAt == 1.0 ? packed.count - 4 : Int(Double(packed.count) * cutAt)
            let r = try Self.post(d, Array(packed[..<keep]), encoding: encoding)
            #expect(r.status == 400 && r.body.contains("\"bad_encoding\"") && r.body.contains("truncated"), "\(encoding) cut at \(keep)/\(packed.count): \(r.status) \(r.body)")
            // The whole body again: what was taken before is duplicate, the rest accepted, nothing
            // rejected (a cut line taken as a shorter number would make its full line a conflict).
            let full = try Self.post(d, packed, encoding: encoding)
            let c = Self.counts(full.body)
            #expect(full.status == 200 && c.count == 4 && c[0] + c[1] == 40 && c[2] == 0 && c[3] == 0, "\(encoding): \(full.body)")
        }
    }

    /// A gzip body of several members (RFC 1952 §2.2) is their contents one after the other, as
    /// `gzip -d` reads it; bytes after a member that are not a member are `bad_encoding`, and a
    /// second member cut short is truncated.
    @Test func gzipMembersFollowEachOther() throws {
        let dir = scratch("members")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv")
        defer { d.stop() }
        let first = try Self.gzip(Array((0..<10).map { Self.reading($0) }.joined().utf8))
        let second = try Self.gzip(Array((10..<25).map { Self.reading($0) }.joined().utf8))
        let both = try Self.post(d, first + second, encoding: "gzip")
        #expect(both.status == 200 && Self.counts(both.body) == [25, 0, 0, 0], "\(both.status) \(both.body)")
        let third = try Self.gzip(Array((25..<30).map { Self.reading($0) }.joined().utf8))
        let garbage = try Self.post(d, third + Array("r,M1,2026-11-18T09:00:00+08:00,5\n".utf8), encoding: "gzip")
        #expect(garbage.status == 400 && garbage.body.contains("\"bad_encoding\""), "\(garbage.status) \(garbage.body)")
        let fourth = try Self.gzip(Array((30..<40).map { Self.reading($0) }.joined().utf8))
        let cut = try Self.post(d, fourth + Array(second[..<(second.count / 2)]), encoding: "gzip")
        #expect(cut.status == 400 && cut.body.contains("truncated"), "\(cut.status) \(cut.body)")
    }
}
