import AsyncHTTPClient
import Foundation
import GridCarbonEngine
import GridCarbonModel
import Hummingbird
import GridCarbonTestKit
import ServiceLifecycle
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// Retention of the alert log seen by its subscribers: the active set outlives pruned segments,
/// a Server-Sent Events client resuming from before the oldest kept event gets `event: gap` and
/// then everything kept, a webhook behind skips forward (logged, counted), and the stream cap.
@Suite(.serialized) struct AlertRetentionTests {
    /// Segments of 4 KiB, about three kept.
    static let small = AlertLogRetention(segmentBytes: 4096, maxAge: nil, maxBytes: 14_000)

    @Test func activeAlertsOutliveTheirSegmentsAndStartReadsLittle() throws {
        let dir = AlertFixtures.scratch("active")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, ringCapacity: 8, retention: Self.small)
            // OLD fires first and never resolves; then K0/K1 fire and resolve over and over.
            hub.publish([AlertFixtures.event(1, key: "OLD")])
            for s in Int64(2)...300 { hub.publish([AlertFixtures.event(s, key: "K\(s % 2)", state: s % 4 < 2 ? .firing : .resolved)]) }
            #expect(try #require(AlertLog.oldestSeq(directory: dir)) > 2)
            #expect(hub.activeAlerts().alerts.map(\.record.key).contains("OLD"))
        }
        // The first segments are gone (OLD's event with them), and a start reads the snapshot
        // and the newest segment: damage to the other kept segments does not change the result.
        // `gridcarbon alerts --active` prints it too (from the snapshot).
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        cli.arguments = ["alerts", dir, "--active", "--json"]
        let out = Pipe()
        cli.standardOutput = out
        try cli.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cli.waitUntilExit()
        #expect(cli.terminationStatus == 0)
        #expect(printed.split(separator: "\n").compactMap { AlertRecord.parse(Array($0.utf8))?.key }.sorted() == ["K0", "OLD"], "\(printed)")
        let kept = try AlertLog.files(dir)
        #expect(kept.count >= 2)
        let snapshot = try #require(AlertLog.readSnapshot(directory: dir))
        #expect(snapshot.seq >= kept.last!.firstSeq - 1)
        for f in kept.dropLast() { try Files.writeAtomically(dir + "/" + f.name, Array(repeating: 0x55, count: 100), sync: false) }
        let again = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, ringCapacity: 1, retention: Self.small)
        let (alerts, seq) = again.activeAlerts()
        #expect(seq == 300)
        // K0's last event (300) fires, K1's (299) resolves.
        #expect(Set(alerts.map(\.record.key)) == ["OLD", "K0"], "\(alerts.map(\.record.id))")
        #expect(alerts.first { $0.record.key == "OLD" }?.entry.seq == 1)
        #expect(try again.entries(after: 299).map(\.seq) == [300])
    }

    @Test func resumeFromBeforeTheOldestKeptGetsAGapThenEverythingKept() async throws {
        let dir = AlertFixtures.scratch("gap")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, ringCapacity: 4, retention: Self.small)
        for s in Int64(1)...200 { hub.publish([AlertFixtures.event(s, key: "K\(s % 3)")]) }
        let oldest = try #require(AlertLog.oldestSeq(directory: dir))
        #expect(oldest > 1)
        let router = Router()
        AlertRoutes.add(to: router, hub: hub, keepAlive: .seconds(5))
        let server = try await TestServer(router: router)
        let url = "http://127.0.0.1:\(server.port)/v1/alerts/stream"

        let behind = SSEClient(url: url, lastEventID: 3)
        let expected = Int(200 - oldest + 1) + 1
        #expect(await AlertFixtures.eventually { behind.events.count >= expected })
        let events = behind.events
        #expect(events.first == SSEClient.Event(id: oldest - 1, event: "gap", data: "{\"after\":3,\"first_seq\":\(oldest)}"))
        #expect(events.dropFirst().map(\.id) == Array(oldest...200))
        #expect(events.dropFirst().allSatisfy { $0.event == "alert" })
        // Live events follow, without another gap.
        hub.publish([AlertFixtures.event(201)])
        #expect(await AlertFixtures.eventually { behind.events.count == expected + 1 })
        #expect(behind.events.last?.id == 201 && behind.events.filter { $0.event == "gap" }.count == 1)

        // A position inside what is kept: no gap.
        let inside = SSEClient(url: url, lastEventID: oldest + 2)
        #expect(await AlertFixtures.eventually { inside.events.count == Int(201 - oldest - 2) })
        #expect(inside.events.map(\.id) == Array((oldest + 3)...201))
        hub.closeSubscribers()
        _ = await behind.task.result
        _ = await inside.task.result
        await server.stop()
    }

    @Test func streamsBeyondTheCapAreRefusedWithRetryAfter() async throws {
        let dir = AlertFixtures.scratch("cap")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, maxSubscribers: 2)
        let router = Router()
        // Short keep-alives: a client gone is noticed at the next write.
        AlertRoutes.add(to: router, hub: hub, keepAlive: .milliseconds(300))
        let server = try await TestServer(router: router)
        let url = "http://127.0.0.1:\(server.port)/v1/alerts/stream"
        let a = SSEClient(url: url), b = SSEClient(url: url)
        #expect(await AlertFixtures.eventually { a.status == 200 && b.status == 200 })
        let refused = try await AlertStreamCap.get(url)
        #expect(refused.status == 503 && refused.retryAfter == "5" && refused.contentType == "application/json")
        #expect(refused.body.hasPrefix("{\"error\":\"too_many_subscribers\",\"message\":\""), "\(refused.body)")
        // A stream that ends gives its place back.
        await a.close()
        #expect(await AlertFixtures.eventually { (try? await AlertStreamCap.get(url, streamed: true).status) == 200 })
        hub.closeSubscribers()
        _ = await b.task.result
        await server.stop()
    }

    @Test func aWebhookBehindWhatIsKeptSkipsForwardAndCountsIt() async throws {
        let dir = AlertFixtures.scratch("hook-gap")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let metrics = ServerMetrics()
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, metrics: AlertMetrics(registry: metrics),
                               ringCapacity: 4, retention: Self.small)
        for s in Int64(1)...200 { hub.publish([AlertFixtures.event(s, key: "K\(s % 3)")]) }
        let oldest = try #require(AlertLog.oldestSeq(directory: dir))
        let port = DaemonProcess.freePort()
        let url = "http://127.0.0.1:\(port)/hook"
        // The webhook had delivered up to 2 when the daemon stopped; retention removed more since.
        try Files.writeAtomically(dir + "/" + WebhookDeliverer.cursorName(url), Array("2\n".utf8), sync: false)
        let received = WebhookTests.Received()
        let server = try await WebhookTests().receiver(port: port, into: received)
        let (group, task) = WebhookTests().service(hub, url: url)
        #expect(await AlertFixtures.eventually { received.distinct.count >= Int(200 - oldest + 1) })
        #expect(received.distinct == Array(oldest...200))
        let text = String(decoding: metrics.text(), as: UTF8.self)
        #expect(text.contains("gridcarbon_alert_delivery_skipped_events_total{target=\"webhook:127.0.0.1:\(port)\"} \(oldest - 3)"), "\(text)")
        #expect(text.contains("gridcarbon_alert_log_segments_pruned_total "))
        await group.triggerGracefulShutdown()
        try await task.value
        await server.stop()
    }
}

/// One request to the alert stream, read for its head (and, when refused, its body).
enum AlertStreamCap {
    static func get(_ url: String, streamed: Bool = false) async throws -> (status: Int, retryAfter: String?, contentType: String?, body: String) {
        let request = HTTPClientRequest(url: url)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let status = Int(response.status.code)
        let head = (status, response.headers.first(name: "Retry-After"), response.headers.first(name: "Content-Type"))
        if status == 200 {
            // An open stream: leave it by dropping the response (the connection is closed).
            return (head.0, head.1, head.2, "")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        return (head.0, head.1, head.2, String(buffer: body))
    }
}
