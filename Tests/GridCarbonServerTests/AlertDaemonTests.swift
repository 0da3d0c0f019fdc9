import Foundation
import Hummingbird
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO

/// End to end on the real `gridcarbon serve` binary: an intensity rule in its configuration, records
/// over TCP, the engine raises the alert, and it reaches a Server-Sent Events client, `GET
/// /v1/alerts`, a webhook and the metrics; after a restart (which replays the log and regenerates
/// the event) it is neither lost nor repeated.
@Suite(.serialized)
struct AlertDaemonTests {
    @Test func engineRaisedAlertReachesSubscribers() async throws {
        let dir = AlertFixtures.scratch("daemon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = #"""
        {
          "alerts": {
            "rules": [{"name": "gd-hot", "kind": "intensity", "level": "province", "key": "CN-GD", "window": "15m", "threshold": 0.4}],
            "keep_alive": "300ms"
          }
        }
        """#
        try Files.writeAtomically(dir + "/config.json", Array(config.utf8), sync: false)
        let received = WebhookTests.Received()
        let hookPort = DaemonProcess.freePort()
        let hook = try await WebhookTests().receiver(port: hookPort, into: received)
        let registry = DaemonProcess.example + "/registry.csv"
        let extra = ["--config", dir + "/config.json", "--idle-timeout", "1h", "--webhook", "http://127.0.0.1:\(hookPort)/hook"]
        var d = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: extra) }
        var started = [d]
        // Whatever fails below, no daemon is left running.
        defer { for p in started { p.stop() } }
        let base = "http://127.0.0.1:\(d.httpPort)"
        #expect(try await httpGet(base + "/v1/alerts").body == "{\"alerts\":[],\"seq\":0}\n")
        let stream = SSEClient(url: base + "/v1/alerts/stream")
        #expect(await AlertFixtures.eventually { stream.status == 200 })

        // M2 is in Guangdong (0.4419 kg/kWh). Its 10:00 window closes by data: the 11:30 record moves
        // the watermark past 10:15 + the 1 h span horizon. (Not by the idle watermark, which would
        // follow the wall clock and make these old records late if the machine is slow.)
        let tcpPort = d.tcpPort
        let ack = try await offPool {
            let tcp = try LineClient(port: tcpPort)
            try tcp.send("i,M2,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,10\ni,M2,2026-11-18T11:30:00+08:00,2026-11-18T11:45:00+08:00,1\n!sync\n")
            return try tcp.readLine()
        }
        #expect(ack == "ok 2 0")
        let raised = await AlertFixtures.eventually { !stream.events.isEmpty }
        if !raised {
            let listed = (try? await httpGet(base + "/v1/alerts").body) ?? "-"
            Issue.record("no event over SSE; GET /v1/alerts: \(listed); daemon log: \(String(decoding: (try? Files.read(d.log)) ?? [], as: UTF8.self))")
        }
        let event = try #require(stream.events.first)
        #expect(event.id == 1 && event.event == "alert")
        #expect(event.data.contains("\"rule\":\"gd-hot\"") && event.data.contains("\"state\":\"firing\"") && event.data.contains("\"key\":\"CN-GD\""))
        #expect(await AlertFixtures.eventually { stream.comments.contains(": keep-alive") })
        let active = try await httpGet(base + "/v1/alerts").body
        #expect(active == "{\"alerts\":[\(event.data)],\"seq\":1}\n")
        // Delivery is at least once (reference §5): a POST that timed out on a loaded machine after
        // the receiver took it is sent again, so the event may arrive more than once, never another.
        #expect(await AlertFixtures.eventually { received.snapshot.first == 1 })
        #expect(Set(received.snapshot) == [1], "\(received.snapshot)")
        #expect(received.bodies.first == event.data)
        let metrics = try await httpGet(base + "/metrics").body
        #expect(metrics.contains("gridcarbon_alert_events_total{state=\"firing\"} 1"))
        #expect(metrics.contains("gridcarbon_alert_sse_subscribers 1"))
        #expect(metrics.contains("gridcarbon_alert_active 1"))

        // SIGTERM with a stream open: the stream ends and the daemon exits 0.
        let first = d
        #expect(try await offPool { first.stop() } == 0)
        _ = await stream.task.result
        let deliveredBefore = received.snapshot

        // Restart: recovery regenerates the event; the log, the active set and the webhook have it once.
        d = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: extra) }
        started.append(d)
        let again = "http://127.0.0.1:\(d.httpPort)"
        #expect(try await httpGet(again + "/v1/alerts").body == active)
        let resumed = SSEClient(url: again + "/v1/alerts/stream", lastEventID: 0)
        #expect(await AlertFixtures.eventually { resumed.events.count == 1 })
        try await Task.sleep(for: .milliseconds(800))
        #expect(resumed.events.map(\.id) == [1])
        #expect(try AlertLog.read(directory: dir + "/serve/alerts").map(\.seq) == [1])
        // The cursor was saved after the delivery: a restart sends nothing again.
        #expect(received.snapshot == deliveredBefore, "delivered again after a clean restart: \(received.snapshot)")
        let second = d
        #expect(try await offPool { second.stop() } == 0)
        await resumed.close()
        await hook.stop()
    }

    @Test func killNineNeitherLosesNorRepeatsAlertEvents() async throws {
        let dir = AlertFixtures.scratch("daemon-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = #"{"alerts": {"rules": [{"name": "gd-hot", "kind": "intensity", "level": "province", "window": "15m", "threshold": 0.4}]}}"#
        try Files.writeAtomically(dir + "/config.json", Array(config.utf8), sync: false)
        let registry = DaemonProcess.example + "/registry.csv"
        let extra = ["--config", dir + "/config.json", "--idle-timeout", "1h"]
        // Two Guangdong windows, the first closed by the second (see above); the daemon is killed as soon as the records are acknowledged,
        // before or after it raised and logged the event (the race is the point).
        let d = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: extra) }
        defer { d.stop() }
        let tcpPort = d.tcpPort
        let ack = try await offPool {
            let tcp = try LineClient(port: tcpPort)
            try tcp.send("i,M2,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,10\ni,M2,2026-11-18T11:30:00+08:00,2026-11-18T11:45:00+08:00,10\n!sync\n")
            let line = try tcp.readLine()
            usleep(UInt32.random(in: 0...1_500_000))
            d.crash()
            return line
        }
        #expect(ack == "ok 2 0")
        let again = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: extra) }
        defer { again.stop() }
        let stream = SSEClient(url: "http://127.0.0.1:\(again.httpPort)/v1/alerts/stream", lastEventID: 0)
        #expect(await AlertFixtures.eventually { !stream.events.isEmpty })
        try await Task.sleep(for: .milliseconds(1500))
        // One alert (hot/province/CN-GD/15m), fired once: seq 1, in the log and the stream once.
        #expect(stream.events.map(\.id) == [1])
        #expect(try AlertLog.read(directory: dir + "/serve/alerts").map(\.seq) == [1])
        #expect(try await offPool { again.stop() } == 0)
        await stream.close()
    }

    @Test func badAlertDeliveryConfigurationIsRefused() throws {
        let dir = AlertFixtures.scratch("daemon-config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (text, reason) in [(#"{"alerts": {"alertmanager": {"url": "http://127.0.0.1:9093", "resnd": "1m"}}}"#, "resnd"),
                               (#"{"alerts": {"webhooks": ["ftp://x"]}}"#, "ftp://x"),
                               (#"{"alerts": {"keep_alive": "soon"}}"#, "keep_alive")] {
            try Files.writeAtomically(dir + "/config.json", Array(text.utf8), sync: false)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
            p.arguments = ["serve", "--config", dir + "/config.json", "--data", dir + "/data", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"]
            let pipe = Pipe()
            p.standardError = pipe
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            let err = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(p.terminationStatus == 2, "\(text): \(err)")
            #expect(err.contains(reason), "\(text): \(err)")
        }
    }
}
