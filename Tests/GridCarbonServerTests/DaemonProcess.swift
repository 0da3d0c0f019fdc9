import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO

#if canImport(Glibc)
import Glibc
#endif

/// The real `gridcarbon` binary, started by a test on loopback ports of its own.
final class DaemonProcess {
    /// The `gridcarbon` built beside this test bundle (``TestRepository/binary``).
    static var binary: String { TestRepository.binary }
    /// The worked example's folder (registry, records, expected files).
    static var example: String { TestRepository.example }

    let process = Process()
    let tcpPort: Int
    let httpPort: Int
    let log: String

    init(data: String, registry: String, extra: [String] = [], readyToken: String? = nil) throws {
        tcpPort = Self.freePort()
        httpPort = Self.freePort()
        log = data + ".log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        process.arguments = ["serve", "--registry", registry, "--data", data, "--tcp", "127.0.0.1:\(tcpPort)", "--http", "127.0.0.1:\(httpPort)"] + extra
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // Ready when HTTP answers /readyz.
        for _ in 0..<300 {
            if (try? http("GET", "/readyz", headers: readyToken.map { ["Authorization": "Bearer \($0)"] } ?? [:]).status) == 200 { return }
            usleep(20_000)
        }
        throw IOError(path: log, message: "daemon did not become ready: \(String(decoding: (try? Files.read(log)) ?? [], as: UTF8.self))")
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// kill -9.
    func crash() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A plain HTTP/1.1 request over a real socket.
    func http(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws -> (status: Int, body: String) {
        let c = try LineClient(port: httpPort)
        var req = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { req += "\(k): \(v)\r\n" }
        req += "\r\n"
        try c.send(Array(req.utf8) + body)
        let response = String(decoding: c.readAll(), as: UTF8.self)
        let status = Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
        let bodyText = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, bodyText)
    }
}

extension LineClient {
    /// A client of a port on loopback whose reads give up after 20 s.
    convenience init(port: Int) throws {
        try self.init(host: "127.0.0.1", port: UInt16(port), receiveTimeout: 20)
    }
}
