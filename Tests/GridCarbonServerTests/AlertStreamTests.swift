import Foundation
import GridCarbonEngine
import GridCarbonModel
import Hummingbird
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// `GET /v1/alerts/stream` and `GET /v1/alerts` on a real Hummingbird server over loopback, read
/// by AsyncHTTPClient, with synthetic events published into the hub.
@Suite(.serialized) struct AlertStreamTests {
    @Test func resumeWithLastEventIDHasNoGapAndNoDuplicate() async throws {
        let dir = AlertFixtures.scratch("sse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A ring of 4: the resume below comes from the log, live events from memory.
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger, ringCapacity: 4)
        let router = Router()
        AlertRoutes.add(to: router, hub: hub, keepAlive: .milliseconds(200))
        let server = try await TestServer(router: router)
        let url = "http://127.0.0.1:\(server.port)/v1/alerts/stream"
        var published: Int64 = 0
        func publish(_ n: Int) {
            for _ in 0..<n { published += 1; hub.publish([AlertFixtures.event(published, key: "K\(published % 3)")]) }
        }

        publish(3)
        // From the start of the log, then live.
        let first = SSEClient(url: url, lastEventID: 0)
        #expect(await AlertFixtures.eventually { first.events.count == 3 })
        publish(2)
        #expect(await AlertFixtures.eventually { first.events.count == 5 })
        #expect(first.status == 200 && first.contentType == "text/event-stream")
        #expect(first.events.map(\.id) == [1, 2, 3, 4, 5])
        #expect(first.events.allSatisfy { $0.event == "alert" })
        #expect(first.events[3].data + "\n" == String(decoding: AlertFixtures.event(4, key: "K1").json(zone: .shanghai), as: UTF8.self))
        // Idle: keep-alive comments.
        #expect(await AlertFixtures.eventually { first.comments.contains(": keep-alive") })
        await first.close()

        // Missed while disconnected: more than the ring holds.
        publish(7)
        let second = SSEClient(url: url, lastEventID: first.events.last!.id)
        #expect(await AlertFixtures.eventually { second.events.count == 7 })
        publish(2)
        #expect(await AlertFixtures.eventually { second.events.count == 9 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(second.events.map(\.id) == Array(6...14))

        // `?after=N` works like the header; no position: live events only.
        let third = SSEClient(url: url + "?after=12")
        let live = SSEClient(url: url)
        #expect(await AlertFixtures.eventually { third.events.count == 2 })
        try await Task.sleep(for: .milliseconds(300))
        publish(1)
        #expect(await AlertFixtures.eventually { third.events.count == 3 && live.events.count == 1 })
        #expect(third.events.map(\.id) == [13, 14, 15])
        #expect(live.events.map(\.id) == [15])

        // A bad position is a JSON error.
        let bad = try await httpGet(url, headers: [("Last-Event-ID", "abc")])
        #expect(bad.status == 400 && bad.body.contains("\"error\":\"bad_last_event_id\""))

        // The active set: K0, K1, K2 each fired, newest event each, ordered by id.
        let active = try await httpGet("http://127.0.0.1:\(server.port)/v1/alerts")
        #expect(active.status == 200)
        let json = try JSONSerialization.jsonObject(with: Data(active.body.utf8)) as! [String: Any]
        #expect(json["seq"] as? Int == 15)
        let alerts = json["alerts"] as! [[String: Any]]
        #expect(alerts.map { $0["key"] as! String } == ["K0", "K1", "K2"])
        #expect(alerts.map { $0["seq"] as! Int } == [15, 13, 14])

        // Closing the hub ends open streams (daemon shutdown), so the server can stop.
        hub.closeSubscribers()
        _ = await second.task.result
        _ = await third.task.result
        _ = await live.task.result
        await server.stop()
    }
}
