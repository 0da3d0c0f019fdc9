import Foundation
import GridCarbonIO
@testable import GridCarbonStream

#if canImport(Glibc)
import Glibc
#endif

/// A real `nats-server` with JetStream, started by a test in a folder of its own on a free
/// loopback port, killed at the end. Without nats-server installed the test fails (never skips).
final class NATSServerProcess {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "nats-server is not installed: run scripts/install-deps.sh (Debian package nats-server)" }
    }

    static var binary: String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: dir + "/nats-server") {
            return dir + "/nats-server"
        }
        return nil
    }

    let process = Process()
    let name: String
    let port: Int
    let directory: String
    var url: String { "nats://127.0.0.1:\(port)" }

    /// Starts a server; `cluster` makes it one node of a cluster (its route port and the others').
    init(directory: String, port: Int = freePort(), name: String = "n0", cluster: (name: String, port: Int, routes: [Int])? = nil) throws {
        guard let binary = Self.binary else { throw Missing() }
        self.name = name
        self.port = port
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Started through a link of another name: on a shared machine, a `pkill nats-server` of
        // someone else's script must not take this test's servers down.
        let link = directory + "/jetstream-node"
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: binary)
        var args = ["-js", "-sd", directory + "/js", "-a", "127.0.0.1", "-p", String(port), "-l", directory + "/server.log", "--server_name", name]
        if let c = cluster {
            args += ["--cluster_name", c.name, "--cluster", "nats://127.0.0.1:\(c.port)",
                     "--routes", c.routes.map { "nats://127.0.0.1:\($0)" }.joined(separator: ",")]
        }
        process.executableURL = URL(fileURLWithPath: link)
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitForPort()
    }

    deinit { kill() }

    /// Waits until the server accepts TCP connections.
    func waitForPort() throws {
        for _ in 0..<500 {
            if !process.isRunning { break }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            close(fd)
            if ok { return }
            usleep(20_000)
        }
        throw IOError(path: directory, message: "nats-server did not start: \(log())")
    }

    /// kill -9 (idempotent).
    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func log() -> String {
        String(decoding: (try? Files.read(directory + "/server.log")) ?? [], as: UTF8.self)
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
}

/// Three JetStream nodes clustered on loopback; ready once an R3 stream can be created.
final class NATSCluster {
    let nodes: [NATSServerProcess]
    var urls: String { nodes.map(\.url).joined(separator: ",") }

    init(directory: String) throws {
        let clusterPorts = (0..<3).map { _ in NATSServerProcess.freePort() }
        var nodes: [NATSServerProcess] = []
        for i in 0..<3 {
            nodes.append(try NATSServerProcess(directory: "\(directory)/n\(i)", name: "n\(i)",
                                               cluster: ("gridcarbon-test", clusterPorts[i], clusterPorts.enumerated().filter { $0.offset != i }.map(\.element))))
        }
        self.nodes = nodes
        try waitForJetStreamLeader()
    }

    /// Creates and deletes an R3 probe stream until that works (a meta leader is elected).
    func waitForJetStreamLeader() throws {
        let deadline = Clock.monotonic() + 30
        var last: (any Error)?
        while Clock.monotonic() < deadline {
            do {
                let c = try NATSConnection(urls: urls)
                let js = try JetStream(c, apiTimeoutMillis: 2000)
                try js.addStream(name: "PROBE", subjects: ["probe"], partitions: 1, replicas: 3, layout: StreamLayout())
                try js.deleteStream("PROBE")
                return
            } catch {
                last = error
                usleep(200_000)
            }
        }
        throw IOError(path: nodes[0].directory, message: "the cluster elected no JetStream leader in 30 s: \(String(describing: last))\n\(nodes[0].log())")
    }

    func kill() { nodes.forEach { $0.kill() } }
}

/// A fresh temporary folder.
func temporaryDirectory(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "gridcarbon-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}
