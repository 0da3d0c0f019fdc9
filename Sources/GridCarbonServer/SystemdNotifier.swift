#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The service manager's side of the daemon: a dependency-free implementation of the `sd_notify`
/// protocol (see `sd_notify(3)`), so that `Type=notify` units know when `gridcarbon serve` is
/// ready, reloading or stopping, and so that `WatchdogSec=` can restart a daemon that hangs.
///
/// The protocol is one datagram per notification, sent to the `AF_UNIX` socket named by
/// `NOTIFY_SOCKET`: newline-separated `KEY=VALUE` assignments such as `READY=1`. A path beginning
/// with `@` names a socket in the abstract namespace (the `@` stands for the leading NUL byte).
///
/// Without `NOTIFY_SOCKET` (started by hand, in tests, under another supervisor) every method is a
/// no-op that returns `false`; a failure to send is never an error either: the daemon must not stop
/// serving because its supervisor cannot be told about it. Each notification opens, uses and closes
/// its own socket, as `sd_notify` does, so the value holds no descriptor and is freely `Sendable`.
///
/// ```swift
/// let systemd = SystemdNotifier()             // reads NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID
/// // … recover the write-ahead log, bind TCP and HTTP …
/// systemd.ready(status: "listening on 127.0.0.1:7070 and 127.0.0.1:8080")
/// // SIGHUP:  systemd.reloading(); reload(); systemd.ready()
/// // SIGTERM: systemd.stopping(); drain(); flush()
/// ```
public struct SystemdNotifier: Sendable {
    /// The notification socket as given in `NOTIFY_SOCKET` (`/run/systemd/notify`, or `@name` for an
    /// abstract socket); `nil` when the daemon was not started by a service manager expecting
    /// notifications.
    public let socketPath: String?

    /// The watchdog timeout the service manager enforces (`WATCHDOG_USEC`, i.e. the unit's
    /// `WatchdogSec=`), or `nil` when the watchdog is off or is meant for another process
    /// (`WATCHDOG_PID` set to a PID other than ours).
    public let watchdogTimeout: Swift.Duration?

    /// How often to call ``watchdog()``: half of ``watchdogTimeout``, the period `sd_watchdog_enabled(3)`
    /// recommends, so that one late ping does not get the daemon killed. `nil` when the watchdog is off.
    public var watchdogInterval: Swift.Duration? {
        watchdogTimeout.map { $0 / 2 }
    }

    /// Whether notifications are sent at all (`NOTIFY_SOCKET` is set and usable).
    public var isEnabled: Bool { socketPath != nil }

    /// Whether the service manager expects ``watchdog()`` pings from this process.
    public var isWatchdogEnabled: Bool { watchdogTimeout != nil }

    /// A notifier configured from this process's environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`,
    /// `WATCHDOG_PID`).
    public init() {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        self.init(environment: environment)
    }

    /// A notifier configured from an explicit environment (for tests, or a supervisor that passes
    /// the variables some other way).
    ///
    /// - Parameters:
    ///   - environment: `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` are read; other keys are
    ///     ignored. An empty `NOTIFY_SOCKET`, or one that is neither an absolute path nor `@name`,
    ///     disables notifications (`vsock:` sockets of systemd ≥ 254 are not supported).
    ///   - processID: the PID compared with `WATCHDOG_PID`; this process's by default.
    public init(environment: [String: String], processID: Int32 = Int32(getpid())) {
        if let path = environment["NOTIFY_SOCKET"], path.hasPrefix("/") || (path.hasPrefix("@") && path.utf8.count > 1) {
            socketPath = path
        } else {
            socketPath = nil
        }
        watchdogTimeout = Self.watchdogTimeout(usec: environment["WATCHDOG_USEC"], pid: environment["WATCHDOG_PID"], processID: processID)
    }

    /// `WATCHDOG_USEC` as a duration when it is a positive integer and `WATCHDOG_PID`, if present, is
    /// `processID` (the logic of `sd_watchdog_enabled(3)`).
    static func watchdogTimeout(usec: String?, pid: String?, processID: Int32) -> Swift.Duration? {
        guard let usec, let micros = UInt64(usec), micros > 0, micros < UInt64(Int64.max) else { return nil }
        if let pid {
            guard let target = Int32(pid), target > 0, target == processID else { return nil }
        }
        return .microseconds(Int64(micros))
    }

    // MARK: - Notifications

    /// Tells the service manager that start-up (or a reload) is complete: `READY=1`, with an optional
    /// status line. Call it once the write-ahead log is recovered and both listeners are bound, and
    /// again after each reload.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + Self.statusField(status))
    }

    /// Tells the service manager that a reload (SIGHUP: registry, factors, budgets) has begun:
    /// `RELOADING=1` with `MONOTONIC_USEC=` (the `CLOCK_MONOTONIC` time, which systemd ≥ 253 requires
    /// to match the reload to a `Type=notify-reload` request; older versions ignore it). Follow it
    /// with ``ready(status:)`` once the reload is done, whether it succeeded or not.
    @discardableResult
    public func reloading(status: String? = nil) -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicros())"] + Self.statusField(status))
    }

    /// Tells the service manager that the daemon is shutting down (`STOPPING=1`): call it as soon as
    /// SIGTERM or SIGINT arrives, before draining connections and flushing.
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        send(["STOPPING=1"] + Self.statusField(status))
    }

    /// A one-line, human-readable status shown by `systemctl status` (`STATUS=…`). Line breaks are
    /// replaced by spaces, since they would end the assignment.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(Self.statusField(text))
    }

    /// Keeps the watchdog from firing (`WATCHDOG=1`). Call it every ``watchdogInterval`` from a place
    /// that only reaches it while the daemon really works (the engine's queue, not a free-running
    /// timer). Sending it while the watchdog is off is harmless; systemd ignores it.
    @discardableResult
    public func watchdog() -> Bool {
        send(["WATCHDOG=1"])
    }

    /// Asks for more time for the current start-up, reload or stop (`EXTEND_TIMEOUT_USEC=`): the
    /// timeout becomes at least `duration` from now. Useful while a long flush at shutdown outlasts
    /// `TimeoutStopSec=`. Rounded up to whole microseconds.
    @discardableResult
    public func extendTimeout(by duration: Swift.Duration) -> Bool {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return false }
        let micros = UInt64(seconds) &* 1_000_000 &+ UInt64((attoseconds + 999_999_999_999) / 1_000_000_000_000)
        return send(["EXTEND_TIMEOUT_USEC=\(micros)"])
    }

    /// Sends arbitrary assignments, one datagram (`sd_notify(0, "A=1\nB=2")`). Returns whether the
    /// datagram was handed to the socket; `false` without `NOTIFY_SOCKET` or on any error.
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        guard let socketPath, !assignments.isEmpty else { return false }
        return Self.sendDatagram(assignments.joined(separator: "\n"), to: socketPath)
    }

    /// Pings ``watchdog()`` every ``watchdogInterval`` for as long as `isHealthy` answers `true`,
    /// until the task is cancelled; returns at once when the watchdog is off. When `isHealthy`
    /// answers `false` (for instance the engine queue has not turned over since the last ping) the
    /// ping is skipped, so a hung daemon is restarted by systemd rather than kept alive by this loop.
    public func runWatchdog(isHealthy: @Sendable () async -> Bool = { true }) async {
        guard let interval = watchdogInterval, isEnabled else { return }
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            if await isHealthy() { watchdog() }
        }
    }

    // MARK: - Wire

    static func statusField(_ text: String?) -> [String] {
        guard let text else { return [] }
        let line = String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
        return ["STATUS=\(line)"]
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd compares `MONOTONIC_USEC=` with.
    static func monotonicMicros() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// One datagram to `path` (`@name` for the abstract namespace). No errors surface: returns
    /// whether the whole message was sent.
    static func sendDatagram(_ message: String, to path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(path.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A filesystem path needs room for its terminating NUL (sockaddr_un() is zero-filled);
        // an abstract name is exactly its bytes.
        guard pathBytes.count <= (abstract ? capacity : capacity - 1), !pathBytes.contains(0) || abstract else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        let length = socklen_t(pathOffset + pathBytes.count + (abstract ? 0 : 1))

        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_DGRAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }

        #if canImport(Darwin)
        let flags: Int32 = 0
        #else
        let flags = Int32(MSG_NOSIGNAL)
        #endif
        var bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeMutableBytes { buffer in
                    sendto(fd, buffer.baseAddress, buffer.count, flags, socketAddress, length)
                }
            }
        }
        return sent == bytes.count
    }
}
