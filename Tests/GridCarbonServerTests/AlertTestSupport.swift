import AsyncHTTPClient
import Foundation
import GridCarbonEngine
import GridCarbonModel
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// Synthetic alert events and small real servers and clients for the alert delivery tests.
enum AlertFixtures {
    static let t0: Micros = 1_795_000_000 * Time.microsPerSecond

    static func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-alerts-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// An intensity alert event: `id` is `hot/province/<key>/1h`.
    static func event(_ seq: Int64, key: String = "CN-GD", state: AlertState = .firing, severity: AlertSeverity = .warning,
                      startsAt: Micros = t0, endsAt: Micros? = nil) -> AlertEvent {
        AlertEvent(seq: seq, id: "hot/province/\(key)/1h", rule: "hot", kind: .intensity, severity: severity, state: state,
                   level: .province, key: key, value: 0.9 + Double(seq) / 1000, threshold: 0.8,
                   windowStart: startsAt, windowEnd: startsAt + Time.microsPerHour, startsAt: startsAt,
                   endsAt: state == .resolved ? (endsAt ?? startsAt + Time.microsPerHour) : nil,
                   message: "province \(key) intensity above 0.8 kg/kWh (event \(seq))")
    }

    static var logger: Logger {
        var l = Logger(label: "alerts-test")
        l.logLevel = .warning
        return l
    }

    /// Waits (polling) until `condition` holds or `seconds` pass. Generous: the whole suite runs
    /// in parallel on two cores, and synchronous tests can hold the concurrency pool's threads.
    static func eventually(_ seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}

/// Runs blocking work (process start and stop, blocking sockets) on a thread of its own, so it does
/// not hold one of the few threads of Swift's concurrency pool that the other tests need.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        Thread.detachNewThread { c.resume(with: Result { try body() }) }
    }
}

extension DaemonProcess: @unchecked Sendable {}
extension LineClient: @unchecked Sendable {}

/// A Hummingbird application on a loopback port, run in a task until ``stop()``.
final class TestServer<Context: RequestContext>: Sendable {
    let task: Task<Void, Error>
    let port: Int

    init(router: Router<Context>, port: Int = 0) async throws where Context == BasicRequestContext {
        let (stream, cont) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { cont.yield($0.localAddress?.port ?? 0); cont.finish() },
                              logger: AlertFixtures.logger)
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var it = stream.makeAsyncIterator()
        guard let p = await it.next() else { throw IOError(path: "test server", message: "did not start") }
        self.port = p
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// One Server-Sent Events stream read over AsyncHTTPClient: events (`id`, `data`) and comments.
final class SSEClient: Sendable {
    struct Event: Equatable, Sendable { var id: Int64; var event: String; var data: String }

    /// What has been read so far.
    final class State: @unchecked Sendable {
        let lock = NSLock()
        var events: [Event] = []
        var comments: [String] = []
        var status: Int?
        var contentType: String?

        func parse(_ block: String) {
            var id: Int64?, event = "message", data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") { lock.withLock { comments.append(String(line)) }; continue }
                if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            if let id { lock.withLock { events.append(Event(id: id, event: event, data: data.joined(separator: "\n"))) } }
        }
    }

    let state = State()
    let task: Task<Void, Never>

    var events: [Event] { state.lock.withLock { state.events } }
    var comments: [String] { state.lock.withLock { state.comments } }
    var status: Int? { state.lock.withLock { state.status } }
    var contentType: String? { state.lock.withLock { state.contentType } }

    init(url: String, lastEventID: Int64? = nil, token: String? = nil) {
        let state = self.state
        task = Task {
            var request = HTTPClientRequest(url: url)
            if let lastEventID { request.headers.add(name: "Last-Event-ID", value: "\(lastEventID)") }
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(600)) else { return }
            state.lock.withLock {
                state.status = Int(response.status.code)
                state.contentType = response.headers.first(name: "Content-Type")
            }
            var pending = ""
            do {
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let r = pending.range(of: "\n\n") {
                        let block = String(pending[..<r.lowerBound])
                        pending = String(pending[r.upperBound...])
                        state.parse(block)
                    }
                }
            } catch {}
        }
    }

    /// Disconnects (cancels the request).
    func close() async {
        task.cancel()
        _ = await task.result
    }
}

/// A plain request over AsyncHTTPClient: status and body text.
func httpGet(_ url: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
    let body = try await response.body.collect(upTo: 16 << 20)
    return (Int(response.status.code), String(buffer: body))
}
