import Foundation
import GridCarbonEngine
import GridCarbonModel
import Hummingbird
import NIOCore
import ServiceLifecycle
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// Webhooks against a real receiver (a Hummingbird server in the test) that is down at first.
@Suite(.serialized) struct WebhookTests {
    /// What the receiver got: seq of each body, in arrival order, and the headers that matter.
    final class Received: @unchecked Sendable {
        let lock = NSLock()
        var seqs: [Int64] = []
        var bodies: [String] = []
        var contentTypes: Set<String> = []
        var auth: Set<String> = []
        func add(_ body: String, type: String?, auth a: String?) {
            lock.withLock {
                seqs.append(AlertLog.seq(of: Array(body.utf8)) ?? -1)
                bodies.append(body)
                contentTypes.insert(type ?? "")
                auth.insert(a ?? "")
            }
        }
        var snapshot: [Int64] { lock.withLock { seqs } }
        /// The seqs with repeats of the one before dropped: a retry after a response that came
        /// too late (at least once) repeats the event right away, before the next one.
        var distinct: [Int64] { snapshot.reduce(into: []) { out, s in if out.last != s { out.append(s) } } }
    }

    func receiver(port: Int, into received: Received) async throws -> TestServer<BasicRequestContext> {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            received.add(String(buffer: body), type: request.headers[.contentType], auth: request.headers[.authorization])
            return Response(status: .noContent)
        }
        return try await TestServer(router: router, port: port)
    }

    func service(_ hub: AlertHub, url: String) -> (ServiceGroup, Task<Void, Error>) {
        var c = AlertDeliveryConfiguration()
        c.webhooks = [url]
        c.webhookToken = "hook-token-0123456789"
        c.retryInitial = .milliseconds(100)
        c.retryMax = .milliseconds(800)
        // Short, so attempts against the closed port fail (AsyncHTTPClient keeps retrying the
        // connection within one request until its deadline) and the backoff path runs.
        c.requestTimeout = .seconds(1)
        let group = ServiceGroup(services: [AlertService(hub: hub, configuration: c, zone: .shanghai, logger: AlertFixtures.logger)],
                                 gracefulShutdownSignals: [], logger: AlertFixtures.logger)
        return (group, Task { try await group.run() })
    }

    @Test func receiverDownThenUpGetsEveryEventInOrderOnce() async throws {
        let dir = AlertFixtures.scratch("webhook")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let metrics = ServerMetrics()
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, metrics: AlertMetrics(registry: metrics))
        let port = DaemonProcess.freePort()
        let url = "http://127.0.0.1:\(port)/hook"
        let (group, task) = service(hub, url: url)
        // The receiver's port is closed: these wait in the outbox (the log) while retries back off.
        for s in Int64(1)...5 { hub.publish([AlertFixtures.event(s, key: "K\(s % 2)", state: s == 4 ? .resolved : .firing)]) }
        // Down until an attempt has failed (counted), however slow the machine.
        let target = "target=\"webhook:127.0.0.1:\(port)\""
        func failures() -> Double {
            let text = String(decoding: metrics.text(), as: UTF8.self)
            let line = text.split(separator: "\n").first { $0.hasPrefix("gridcarbon_alert_delivery_failures_total{\(target)}") }
            return (line?.split(separator: " ").last).flatMap { Double($0) } ?? 0
        }
        #expect(await AlertFixtures.eventually { failures() >= 1 })
        let received = Received()
        let server = try await receiver(port: port, into: received)
        for s in Int64(6)...10 { hub.publish([AlertFixtures.event(s, key: "K\(s % 2)")]) }
        #expect(await AlertFixtures.eventually { received.distinct.count >= 10 })
        // Every event, in seq order. At least once: a request that outlives its deadline on a
        // loaded machine is sent again, but only right away (an immediate repeat), never after a
        // later event, so collapsing immediate repeats must give exactly 1...10.
        #expect(received.distinct == Array(1...10), "\(received.snapshot)")
        #expect(received.contentTypes == ["application/json"])
        #expect(received.auth == ["Bearer hook-token-0123456789"])
        #expect(received.bodies.first { $0.hasPrefix("{\"seq\":4,") }?.contains("\"state\":\"resolved\"") == true)
        let cursor = dir + "/" + WebhookDeliverer.cursorName(url)
        #expect(await AlertFixtures.eventually { (try? Files.read(cursor)) == Array("10\n".utf8) })
        // Nothing is left to deliver.
        let text = String(decoding: metrics.text(), as: UTF8.self)
        #expect(text.contains("gridcarbon_alert_delivery_lag_events{\(target)} 0"), "\(text)")
        #expect(text.contains("gridcarbon_alert_events_total{state=\"firing\"} 9") && text.contains("gridcarbon_alert_events_total{state=\"resolved\"} 1"))
        await group.triggerGracefulShutdown()
        try await task.value

        // Stopped: events published meanwhile are delivered at the next start, nothing twice.
        let deliveredBefore = received.snapshot.count
        for s in Int64(11)...12 { hub.publish([AlertFixtures.event(s)]) }
        let (group2, task2) = service(hub, url: url)
        #expect(await AlertFixtures.eventually { received.distinct.count >= 12 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(received.distinct == Array(1...12))
        #expect(Set(received.snapshot[deliveredBefore...]) == [11, 12], "nothing before the cursor is sent again: \(received.snapshot)")
        await group2.triggerGracefulShutdown()
        try await task2.value
        await server.stop()
    }
}
