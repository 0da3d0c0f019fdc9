#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
@testable import GridCarbonServer

/// The sd_notify protocol against real AF_UNIX datagram sockets, bound the way systemd binds its own:
/// a path in a temporary folder, and a name in the abstract namespace.
@Suite struct SystemdNotifierTests {
    // MARK: - Datagrams

    @Test func readyWatchdogStoppingAndStatusArriveAsDatagrams() throws {
        let listener = try DatagramListener.filesystem()
        defer { listener.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "30000000"])
        #expect(notifier.isEnabled)

        #expect(notifier.ready())
        #expect(try listener.receive() == "READY=1")
        #expect(notifier.watchdog())
        #expect(try listener.receive() == "WATCHDOG=1")
        #expect(notifier.status("replaying write-ahead log: 42 %"))
        #expect(try listener.receive() == "STATUS=replaying write-ahead log: 42 %")
        #expect(notifier.stopping())
        #expect(try listener.receive() == "STOPPING=1")
        #expect(notifier.ready(status: "listening on 127.0.0.1:7070"))
        #expect(try listener.receive() == "READY=1\nSTATUS=listening on 127.0.0.1:7070")
        #expect(notifier.stopping(status: "flushing"))
        #expect(try listener.receive() == "STOPPING=1\nSTATUS=flushing")
    }

    @Test func abstractSocketNamesStartWithAnAt() throws {
        let listener = try DatagramListener.abstract()
        defer { listener.close() }
        #expect(listener.name.hasPrefix("@"))
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name])
        #expect(notifier.ready())
        #expect(try listener.receive() == "READY=1")
        #expect(notifier.watchdog())
        #expect(try listener.receive() == "WATCHDOG=1")
        #expect(notifier.stopping())
        #expect(try listener.receive() == "STOPPING=1")
    }

    @Test func reloadingCarriesTheMonotonicClock() throws {
        let listener = try DatagramListener.filesystem()
        defer { listener.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name])
        let before = SystemdNotifier.monotonicMicros()
        #expect(notifier.reloading())
        let after = SystemdNotifier.monotonicMicros()
        let fields = try listener.receive().split(separator: "\n").map(String.init)
        #expect(fields.count == 2)
        #expect(fields.first == "RELOADING=1")
        let stamp = try #require(fields.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst("MONOTONIC_USEC=".count)) : nil })
        #expect(before <= stamp && stamp <= after)
    }

    @Test func statusStaysOnOneLine() throws {
        let listener = try DatagramListener.filesystem()
        defer { listener.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name])
        #expect(notifier.status("two\nlines\r\nhere"))
        #expect(try listener.receive() == "STATUS=two lines here")
    }

    @Test func extendTimeoutRoundsUpToMicroseconds() throws {
        let listener = try DatagramListener.filesystem()
        defer { listener.close() }
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name])
        #expect(notifier.extendTimeout(by: .seconds(90)))
        #expect(try listener.receive() == "EXTEND_TIMEOUT_USEC=90000000")
        #expect(notifier.extendTimeout(by: .nanoseconds(1_500)))
        #expect(try listener.receive() == "EXTEND_TIMEOUT_USEC=2")
    }

    @Test func runWatchdogPingsWhileHealthyAndStopsOnCancellation() async throws {
        let listener = try DatagramListener.filesystem()
        defer { listener.close() }
        // 40 ms timeout: a ping every 20 ms.
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "40000"])
        #expect(notifier.watchdogInterval == .milliseconds(20))
        let task = Task { await notifier.runWatchdog() }
        // Poll without blocking a cooperative thread: the watchdog task needs one to run.
        #expect(try await Self.nextDatagram(listener) == "WATCHDOG=1")
        #expect(try await Self.nextDatagram(listener) == "WATCHDOG=1")
        task.cancel()
        await task.value
        while (try? listener.receive(timeoutMilliseconds: 0)) != nil {} // pings sent before the cancel

        // Unhealthy: no ping at all.
        let quiet = Task { await notifier.runWatchdog(isHealthy: { false }) }
        try await Task.sleep(for: .milliseconds(100))
        quiet.cancel()
        await quiet.value
        #expect(throws: DatagramListener.Failure.self) { try listener.receive(timeoutMilliseconds: 50) }
    }

    /// The next datagram, polled every few milliseconds for up to 10 seconds.
    fileprivate static func nextDatagram(_ listener: DatagramListener) async throws -> String {
        for _ in 0..<2000 {
            if let d = try? listener.receive(timeoutMilliseconds: 0) { return d }
            try await Task.sleep(for: .milliseconds(5))
        }
        return try listener.receive(timeoutMilliseconds: 0)
    }

    @Test func runWatchdogReturnsAtOnceWhenTheWatchdogIsOff() async {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify"])
        await notifier.runWatchdog() // would never return if it looped
    }

    // MARK: - Watchdog settings

    @Test func watchdogIntervalIsHalfTheTimeout() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000"])
        #expect(notifier.isWatchdogEnabled)
        #expect(notifier.watchdogTimeout == .seconds(30))
        #expect(notifier.watchdogInterval == .seconds(15))
        #expect(SystemdNotifier(environment: ["WATCHDOG_USEC": "3"]).watchdogInterval == .nanoseconds(1_500))
    }

    @Test func watchdogPIDMustBeOurs() {
        let ours = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "4242"], processID: 4242)
        #expect(ours.watchdogInterval == .milliseconds(500))
        let theirs = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "4243"], processID: 4242)
        #expect(theirs.watchdogInterval == nil)
        let real = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(real.isWatchdogEnabled)
    }

    @Test(arguments: [nil, "", "0", "-5", "abc", "30s", "1e6", "99999999999999999999"])
    func malformedWatchdogSettingsDisableIt(usec: String?) {
        var environment = ["NOTIFY_SOCKET": "/run/systemd/notify"]
        environment["WATCHDOG_USEC"] = usec
        let notifier = SystemdNotifier(environment: environment)
        #expect(notifier.watchdogTimeout == nil)
        #expect(notifier.watchdogInterval == nil)
        #expect(!notifier.isWatchdogEnabled)
    }

    @Test(arguments: ["", "abc", "0", "-1"])
    func malformedWatchdogPIDDisablesIt(pid: String) {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": pid], processID: 4242)
        #expect(notifier.watchdogInterval == nil)
    }

    // MARK: - Without a service manager

    @Test func noSocketMeansNoOp() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(notifier.socketPath == nil)
        #expect(!notifier.ready())
        #expect(!notifier.reloading())
        #expect(!notifier.stopping())
        #expect(!notifier.status("x"))
        #expect(!notifier.watchdog())
        #expect(!notifier.extendTimeout(by: .seconds(1)))
    }

    @Test(arguments: ["", "@", "relative/path", "vsock:2:1234"])
    func unusableSocketNamesDisableNotifications(name: String) {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": name])
        #expect(!notifier.isEnabled)
        #expect(!notifier.ready())
    }

    @Test func unreachableSocketFailsQuietly() throws {
        let directory = try temporaryDirectory()
        defer { rmdir(directory) }
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": directory + "/absent"]).ready())
        #expect(!SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]).ready())
    }

    @Test func processEnvironmentInitializerReadsTheProcessEnvironment() {
        // Whether or not this test runner is itself a Type=notify service, the no-argument
        // initializer sees exactly what the environment holds (nothing is sent: no ready()).
        let environment = ProcessInfo.processInfo.environment
        let fromProcess = SystemdNotifier()
        let fromCopy = SystemdNotifier(environment: environment)
        #expect(fromProcess.isEnabled == fromCopy.isEnabled)
        #expect(fromProcess.socketPath == fromCopy.socketPath)
        #expect(fromProcess.watchdogInterval == fromCopy.watchdogInterval)
        var without = environment
        without["NOTIFY_SOCKET"] = nil
        #expect(!SystemdNotifier(environment: without).isEnabled)
        #expect(!SystemdNotifier(environment: without).ready())
    }
}

// MARK: - A receiving socket, as systemd binds it

/// A bound `AF_UNIX` `SOCK_DGRAM` socket that receives notifications.
private struct DatagramListener {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What `NOTIFY_SOCKET` would say: a path, or `@name` for the abstract namespace.
    let name: String
    let fd: Int32
    let directory: String?

    static func filesystem() throws -> DatagramListener {
        let directory = try temporaryDirectory()
        let path = directory + "/notify"
        return try DatagramListener(name: path, bytes: Array(path.utf8), directory: directory)
    }

    static func abstract() throws -> DatagramListener {
        let name = "gridcarbon-test-\(getpid())-\(UInt64.random(in: 0 ... .max))"
        return try DatagramListener(name: "@" + name, bytes: [0] + Array(name.utf8), directory: nil)
    }

    private init(name: String, bytes: [UInt8], directory: String?) throws {
        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(offset + bytes.count + (bytes.first == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw Failure(description: "bind \(name): errno \(code)")
        }
        self.name = name
        self.fd = fd
        self.directory = directory
    }

    /// The next datagram as text; throws after `timeoutMilliseconds` without one.
    func receive(timeoutMilliseconds: Int32 = 5_000) throws -> String {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) == 1 else { throw Failure(description: "no datagram within \(timeoutMilliseconds) ms") }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw Failure(description: "recv: errno \(errno)") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    func close() {
        closeDescriptor(fd)
        if let directory {
            unlink(name)
            rmdir(directory)
        }
    }
}

private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #elseif canImport(Musl)
    _ = Musl.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

/// A fresh private folder under `$TMPDIR` (or /tmp).
private func temporaryDirectory() throws -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    // Keep the path well under sun_path's 108 bytes even with a long TMPDIR.
    let root = base.utf8.count < 60 ? base : "/tmp"
    var template = Array((root + "/gc-sd-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw DatagramListener.Failure(description: "mkdtemp: errno \(errno)")
    }
    return String(cString: made)
}
