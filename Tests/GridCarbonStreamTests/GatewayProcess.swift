import Foundation
import GridCarbonIO
import GridCarbonTestKit

#if canImport(Glibc)
import Glibc
#endif

/// The built `gridcarbon serve --nats URL` as a gateway, on loopback ports of its own; killed at
/// the end.
final class GatewayProcess {
    let process = Process()
    let tcpPort = NATSServerProcess.freePort()
    let httpPort = NATSServerProcess.freePort()
    let log: String

    init(nats: String, data: String, extra: [String] = []) throws {
        log = data + ".log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        process.arguments = ["serve", "--nats", nats, "--data", data, "--tcp", "127.0.0.1:\(tcpPort)", "--http", "127.0.0.1:\(httpPort)"] + extra
        let handle = FileHandle(forWritingAtPath: log)!
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<500 {
            if !process.isRunning { break }
            if (try? http("GET", "/readyz").status) == 200 { return }
            usleep(20_000)
        }
        throw IOError(path: log, message: "the gateway did not become ready: \(logText())")
    }

    deinit { kill(SIGKILL) }

    func kill(_ signal: Int32) {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    func logText() -> String { String(decoding: (try? Files.read(log)) ?? [], as: UTF8.self) }

    /// A TCP client of the gateway whose reads give up after `timeout` seconds.
    func client(timeout: Int = 30) throws -> LineClient {
        try LineClient(host: "127.0.0.1", port: UInt16(tcpPort), receiveTimeout: timeout)
    }

    /// A plain HTTP/1.1 request over a real socket: status and body.
    func http(_ method: String, _ path: String, body: [UInt8] = [], timeout: Int = 60) throws -> (status: Int, body: String) {
        let c = try LineClient(host: "127.0.0.1", port: UInt16(httpPort), receiveTimeout: timeout)
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
        try c.send(Array(head.utf8) + body)
        let response = String(decoding: c.readAll(), as: UTF8.self)
        let status = Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
    }
}

/// Changes how long reads of `client` wait.
func setReceiveTimeout(_ client: LineClient, seconds: Int) {
    var tv = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
}

/// Creates the records stream with `P` partitions (`gridcarbon publish` of an empty file).
func createStream(_ url: String, partitions: Int, dir: String) throws {
    let empty = try writeFile(dir, "empty.csv", "")
    let r = try GridCarbonBinary.run(["publish", "--nats", url, "--partitions", String(partitions), "--data", dir + "/publish-data", "--no-progress", empty])
    if r.status != 0 { throw IOError(path: dir, message: "publish failed: \(r.err)") }
}
