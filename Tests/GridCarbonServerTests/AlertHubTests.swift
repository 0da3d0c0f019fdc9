import Foundation
import GridCarbonEngine
import GridCarbonModel
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// The hub over a real alert log in a temporary folder, with synthetic events.
@Suite struct AlertHubTests {
    @Test func activeSetFollowsFiringAndResolved() throws {
        let dir = AlertFixtures.scratch("hub-active")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger)
        hub.publish([AlertFixtures.event(1, key: "CN-GD"), AlertFixtures.event(2, key: "CN-BJ")])
        hub.publish([AlertFixtures.event(3, key: "CN-GD", severity: .critical), AlertFixtures.event(4, key: "CN-SH")])
        hub.publish([AlertFixtures.event(5, key: "CN-SH", state: .resolved)])
        let (active, seq) = hub.activeAlerts()
        #expect(seq == 5)
        // Ordered by id; the newest firing event of each; CN-SH resolved.
        #expect(active.map(\.record.id) == ["hot/province/CN-BJ/1h", "hot/province/CN-GD/1h"])
        #expect(active.map(\.entry.seq) == [2, 3])
        #expect(active[1].record.severity == "critical")
        #expect(active[1].record.startsAt == "2026-11-18T19:06:40+08:00")
    }

    @Test func republishingLogsEachEventOnceAndRestartRebuilds() throws {
        let dir = AlertFixtures.scratch("hub-dedupe")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let events = (1...4).map { AlertFixtures.event($0, key: "K\($0 % 2)", state: $0 == 4 ? .resolved : .firing) }
        do {
            let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger)
            hub.publish(Array(events[0..<3]))
            // Recovery regenerates events already logged: only the new one is added.
            hub.publish(events)
            hub.publish(events)
            #expect(hub.lastSeq == 4)
        }
        let lines = try AlertLog.read(directory: dir)
        #expect(lines.map(\.seq) == [1, 2, 3, 4])
        #expect(lines.map { AlertRecord.parse($0.line)?.seq } == [1, 2, 3, 4])
        // A new hub over the same folder: the same active set (K1 fired by 1 and 3; K0 fired by 2, resolved by 4).
        let again = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger)
        #expect(again.lastSeq == 4)
        #expect(again.activeAlerts().alerts.map { "\($0.record.key)@\($0.entry.seq)" } == ["K1@3"])
        again.publish([AlertFixtures.event(5, key: "K9")])
        #expect(try AlertLog.read(directory: dir).map(\.seq) == [1, 2, 3, 4, 5])
    }

    @Test func entriesResumeFromTheRingOrTheLog() throws {
        let dir = AlertFixtures.scratch("hub-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A tiny ring (2): older events come from the log, in order, with no gap.
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, ringCapacity: 2)
        for s in Int64(1)...10 { hub.publish([AlertFixtures.event(s, key: "K\(s)")]) }
        #expect(try hub.entries(after: 0, limit: 100).map(\.seq) == Array(1...10))
        #expect(try hub.entries(after: 3, limit: 4).map(\.seq) == [4, 5, 6, 7])
        #expect(try hub.entries(after: 9).map(\.seq) == [10])
        #expect(try hub.entries(after: 10).isEmpty)
        #expect(try hub.entries(after: 99).isEmpty)
        // Lines are the events' NDJSON.
        #expect(try hub.entries(after: 9)[0].line == AlertFixtures.event(10, key: "K10").json(zone: .shanghai))
        // Rebuilt hub: the ring is the log's tail.
        let again = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, ringCapacity: 3)
        #expect(try again.entries(after: 8).map(\.seq) == [9, 10])
        #expect(try again.entries(after: 2, limit: 3).map(\.seq) == [3, 4, 5])
    }

    @Test func subscriptionsWakeAndEndOnClose() async throws {
        let dir = AlertFixtures.scratch("hub-wake")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger)
        let s = hub.subscribe()
        var it = s.wakes.makeAsyncIterator()
        // Many publishes before the subscriber looks: one buffered wake, no backlog.
        for seq in Int64(1)...50 { hub.publish([AlertFixtures.event(seq)]) }
        #expect(await it.next() == .changed)
        s.tick()
        #expect(await it.next() == .tick)
        hub.closeSubscribers()
        #expect(await it.next() == nil)
        // After close, new subscriptions end at once; events are still logged.
        var late = hub.subscribe().wakes.makeAsyncIterator()
        #expect(await late.next() == nil)
        hub.publish([AlertFixtures.event(51)])
        #expect(hub.lastSeq == 51)
    }

    @Test func webhookCursorNames() {
        let a = WebhookDeliverer.cursorName("http://127.0.0.1:9000/hooks/alerts?token=x")
        #expect(a.hasPrefix("webhook-127.0.0.1_9000_hooks_alerts-") && a.hasSuffix(".cursor"))
        #expect(a != WebhookDeliverer.cursorName("http://127.0.0.1:9000/hooks/alerts?token=y"))
        #expect(WebhookDeliverer.hostPort("https://user:pw@example.org:8443/x") == "example.org:8443")
    }
}
