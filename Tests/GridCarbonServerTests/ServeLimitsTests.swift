import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
import GridCarbonModel
@testable import GridCarbonServer

#if canImport(Glibc)
import Glibc
#endif

/// Limits and the tokens file as `serve` reads them (reference §6): a value that is not a number,
/// out of range, or a tokens file that cannot be used stops the real binary with exit 2 and a
/// message naming the key (or file) and what is allowed.
@Suite(.serialized)
struct ServeLimitsTests {
    /// Runs `gridcarbon serve ARGS` on ports of its own; it must exit by itself (a daemon that
    /// starts is stopped and reported as such). Returns the status and standard error.
    func serve(_ args: [String], in dir: String) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        p.arguments = ["serve", "--data", dir + "/data", "--tcp", "127.0.0.1:\(DaemonProcess.freePort())",
                       "--http", "127.0.0.1:\(DaemonProcess.freePort())"] + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        for _ in 0..<600 where p.isRunning { usleep(50_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
            Issue.record("serve \(args) started instead of refusing")
        }
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-limits-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func badLimitsExit2NamingTheKeyAndRange() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String], [String])] = [
            (["--max-line-bytes", "100"], ["max_line_bytes", "--max-line-bytes", "256", "16777216"]),
            (["--max-line-bytes", "lots"], ["max_line_bytes", "'lots'"]),
            (["--max-line-bytes", "99999999"], ["max_line_bytes", "16777216"]),
            (["--max-body-bytes=-1"], ["max_body_bytes", "--max-body-bytes"]),
            (["--checkpoint-bytes", "0"], ["checkpoint_bytes", "1 to"]),
            (["--checkpoint-bytes", "1e6"], ["checkpoint_bytes"]),
            (["--wal-segment-bytes", "1000"], ["wal_segment_bytes", "4096"]),
            (["--idle-timeout", "soon"], ["idle_timeout", "duration"]),
            (["--read-timeout", "0s"], ["read_timeout", "--read-timeout", "1s to 1d"]),
            (["--read-timeout", "5"], ["read_timeout"]),
            (["--max-connections", "0"], ["max_connections", "1 to 65536"]),
            (["--max-connections", "many"], ["max_connections"]),
        ]
        for (args, words) in cases {
            let (status, err) = try serve(args, in: dir)
            #expect(status == 2, "\(args): \(err)")
            for w in words { #expect(err.contains(w), "\(args): '\(w)' not in \(err)") }
        }
        // The same from the configuration file, as strings or JSON numbers.
        let files: [(String, [String])] = [
            (#"{"max_line_bytes": "12"}"#, ["max_line_bytes", "256"]),
            (#"{"max_line_bytes": 12}"#, ["max_line_bytes", "256"]),
            (#"{"max_body_bytes": "big"}"#, ["max_body_bytes", "'big'"]),
            (#"{"max_body_bytes": true}"#, ["max_body_bytes"]),
            (#"{"max_connections": 100000}"#, ["max_connections", "65536"]),
            (#"{"read_timeout": "48h"}"#, ["read_timeout", "1d"]),
            (#"{"wal_segment_bytes": "64k"}"#, ["wal_segment_bytes"]),
        ]
        for (text, words) in files {
            try Files.writeAtomically(dir + "/config.json", Array(text.utf8), sync: false)
            let (status, err) = try serve(["--config", dir + "/config.json"], in: dir)
            #expect(status == 2, "\(text): \(err)")
            for w in words { #expect(err.contains(w), "\(text): '\(w)' not in \(err)") }
        }
    }

    @Test func badTokensFileExits2() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try serve(["--tokens", dir + "/no-such-tokens"], in: dir)
        #expect(missing.status == 2 && missing.stderr.contains("no-such-tokens") && missing.stderr.contains("cannot read"), "\(missing)")
        try Files.writeAtomically(dir + "/tokens", Array("# tokens\ningest\n".utf8), sync: false)
        let malformed = try serve(["--tokens", dir + "/tokens"], in: dir)
        #expect(malformed.status == 2 && malformed.stderr.contains("line 2") && malformed.stderr.contains("ROLE[,ROLE] TOKEN"), "\(malformed)")
        try Files.writeAtomically(dir + "/tokens", Array("writer some-token-0123456789\n".utf8), sync: false)
        let role = try serve(["--tokens", dir + "/tokens"], in: dir)
        #expect(role.status == 2 && role.stderr.contains("unknown role 'writer'"), "\(role)")
        try Files.writeAtomically(dir + "/tokens", Array("ingest short\n".utf8), sync: false)
        let short = try serve(["--tokens", dir + "/tokens"], in: dir)
        #expect(short.status == 2 && short.stderr.contains("shorter than 16"), "\(short)")
        #expect(chmod(dir + "/tokens", 0) == 0)
        if getuid() != 0 {
            let unreadable = try serve(["--tokens", dir + "/tokens"], in: dir)
            #expect(unreadable.status == 2 && unreadable.stderr.contains("cannot read"), "\(unreadable)")
        }
    }

    @Test func limitsInRangeAreTaken() throws {
        let file = try ConfigFile(text: #"{"max_line_bytes": 256, "max_body_bytes": "2048", "read_timeout": "90s", "max_connections": "8"}"#, path: "c.json")
        let c = try ServeConfiguration(file: file, flags: [.maxConnections: "9", .checkpointBytes: "1"])
        #expect(c.maxLineBytes == 256 && c.maxBodyBytes == 2048 && c.readTimeout == 90 * Time.microsPerSecond)
        #expect(c.maxConnections == 9 && c.checkpointBytes == 1)
        let d = try ServeConfiguration(file: .empty)
        #expect(d.readTimeout == 5 * Time.microsPerMinute && d.maxConnections == 1024)
        #expect(ConfigKey.readTimeout.defaultValue == "5m" && ConfigKey.maxConnections.defaultValue == "1024")
        #expect(throws: ConfigurationError.self) { try ServeConfiguration(file: .empty, flags: [.maxLineBytes: "255"]) }
        #expect(throws: ConfigurationError.self) { try ServeConfiguration(file: .empty, flags: [.maxLineBytes: String(16 << 20 + 1)]) }
        #expect(try ServeConfiguration(file: .empty, flags: [.maxLineBytes: String(16 << 20)]).maxLineBytes == 16 << 20)
    }
}

/// Tokens compared in constant time, `Bearer` in any case, loopback decided on resolved addresses.
@Suite struct AuthenticatorTests {
    @Test func tokensAreComparedWhole() {
        #expect(Authenticator.constantTimeEquals(Array("abcdef0123456789".utf8), Array("abcdef0123456789".utf8)))
        #expect(!Authenticator.constantTimeEquals(Array("abcdef0123456788".utf8), Array("abcdef0123456789".utf8)))
        #expect(!Authenticator.constantTimeEquals(Array("abcdef012345678".utf8), Array("abcdef0123456789".utf8)))
        #expect(!Authenticator.constantTimeEquals(Array("abcdef0123456789a".utf8), Array("abcdef0123456789".utf8)))
        #expect(!Authenticator.constantTimeEquals([], Array("abcdef0123456789".utf8)))
        // A prefix repeated to the known length is not equal.
        #expect(!Authenticator.constantTimeEquals(Array("abcd".utf8), Array("abcdabcdabcdabcd".utf8)))
        let auth = Authenticator(required: true, tokens: ["ingest-token-0123456789": [.ingest], "admin-token-0123456789a": [.admin]])
        #expect(auth.roles(of: "ingest-token-0123456789") == [.ingest])
        #expect(auth.roles(of: "ingest-token-012345678") == nil && auth.roles(of: "") == nil)
        #expect(auth.allows("admin-token-0123456789a", .ingest) && !auth.allows("ingest-token-0123456789", .read))
        #expect(!auth.allows(nil, .ingest))
    }

    @Test func bearerInAnyCase() {
        #expect(Authenticator.bearerToken("Bearer abc") == "abc")
        #expect(Authenticator.bearerToken("bearer abc") == "abc")
        #expect(Authenticator.bearerToken("BEARER  abc ") == "abc")
        #expect(Authenticator.bearerToken("Basic abc") == nil)
        #expect(Authenticator.bearerToken("Bearerabc") == nil)
        #expect(Authenticator.bearerToken("Bearer ") == nil)
    }

    @Test func loopbackByResolvedAddress() {
        #expect(Loopback.contains("127.0.0.1") && Loopback.contains("127.8.9.10") && Loopback.contains("::1"))
        #expect(Loopback.contains("localhost"))
        #expect(!Loopback.contains("127.0.0.1.example.com"))
        #expect(!Loopback.contains("0.0.0.0") && !Loopback.contains("::") && !Loopback.contains("10.0.0.1"))
        #expect(!Loopback.contains("::ffff:10.0.0.1") && Loopback.contains("::ffff:127.0.0.1"))
        #expect(!Loopback.contains("128.0.0.1") && !Loopback.contains(""))
        #expect(Daemon.isLoopback("127.0.0.1") && !Daemon.isLoopback("127.0.0.1.example.com"))
    }
}
