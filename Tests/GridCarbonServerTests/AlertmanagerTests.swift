import Foundation
import GridCarbonEngine
import GridCarbonModel
import ServiceLifecycle
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// The push to a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`), started on a
/// loopback port with a minimal configuration and clustering off.
@Suite(.serialized) struct AlertmanagerTests {
    static let binary = "/usr/bin/prometheus-alertmanager"

    /// The alerts Alertmanager lists (`GET /api/v2/alerts`: not resolved), by `gridcarbon_id|severity`.
    func alerts(_ port: Int) async throws -> [String: [String: Any]] {
        let r = try await httpGet("http://127.0.0.1:\(port)/api/v2/alerts")
        guard r.status == 200, let list = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]] else { return [:] }
        var out: [String: [String: Any]] = [:]
        for a in list {
            if let l = a["labels"] as? [String: String], let id = l["gridcarbon_id"], let sev = l["severity"] { out[id + "|" + sev] = a }
        }
        return out
    }

    @Test func firingThenResolvedInRealAlertmanager() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "\(Self.binary) is missing: run scripts/install-deps.sh (make test does)")
        let dir = AlertFixtures.scratch("alertmanager")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/alertmanager.yml", Array("route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n".utf8), sync: false)
        let port = DaemonProcess.freePort()
        let am = Process()
        am.executableURL = URL(fileURLWithPath: Self.binary)
        am.arguments = ["--config.file=\(dir)/alertmanager.yml", "--storage.path=\(dir)/am-data",
                        "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="]
        let log = FileHandle(forWritingAtPath: { _ = FileManager.default.createFile(atPath: dir + "/am.log", contents: nil); return dir + "/am.log" }())!
        am.standardOutput = log
        am.standardError = log
        try am.run()
        defer { am.terminate(); am.waitUntilExit() }
        let ready = await AlertFixtures.eventually(30) { (try? await httpGet("http://127.0.0.1:\(port)/-/ready").status) == 200 }
        #expect(ready, "alertmanager did not start: \(String(decoding: (try? Files.read(dir + "/am.log")) ?? [], as: UTF8.self))")
        guard ready else { return }

        let hub = try AlertHub(directory: dir + "/alerts", zone: .shanghai, logger: AlertFixtures.logger)
        var c = AlertDeliveryConfiguration()
        c.alertmanagerURL = "http://127.0.0.1:\(port)/"
        c.alertmanagerResend = .seconds(2)
        c.retryInitial = .milliseconds(100)
        let group = ServiceGroup(services: [AlertService(hub: hub, configuration: c, zone: .shanghai, logger: AlertFixtures.logger)],
                                 gracefulShutdownSignals: [], logger: AlertFixtures.logger)
        let task = Task { try await group.run() }
        let now = Clock.now()
        // Fires as a warning, then escalates: Alertmanager holds the critical one only.
        hub.publish([AlertFixtures.event(1, key: "CN-GD", severity: .warning, startsAt: now - 10 * Time.microsPerMinute)])
        #expect(await AlertFixtures.eventually { (try? await alerts(port).count) == 1 })
        let firing = AlertFixtures.event(2, key: "CN-GD", severity: .critical, startsAt: now - 10 * Time.microsPerMinute)
        hub.publish([firing])
        var seen: [String: Any] = [:]
        let active = await AlertFixtures.eventually {
            guard let all = try? await alerts(port), let a = all[firing.id + "|critical"] else { return false }
            seen = a
            return (a["status"] as? [String: Any])?["state"] as? String == "active" && all[firing.id + "|warning"] == nil
        }
        #expect(active, "the critical alert did not become active in Alertmanager: \(seen)")
        let labels = seen["labels"] as? [String: String] ?? [:]
        #expect(labels == ["alertname": "hot", "severity": "critical", "level": "province", "key": "CN-GD", "gridcarbon_id": firing.id, "kind": "intensity"])
        // Re-sent every 2 s: Alertmanager's updatedAt moves on.
        let updated = seen["updatedAt"] as? String
        // Within 30 s: far beyond the 2 s period, for a loaded machine.
        let resent = await AlertFixtures.eventually(30) {
            (try? await alerts(port)[firing.id + "|critical"]?["updatedAt"] as? String).map { $0 != updated } ?? false
        }
        #expect(resent, "no re-send seen (updatedAt stayed \(updated ?? "-"))")
        let annotations = seen["annotations"] as? [String: String] ?? [:]
        #expect(annotations["summary"] == firing.message && annotations["threshold"] == "0.8" && annotations["value"] == "0.902")

        // The resolution (in the past): Alertmanager no longer lists it as active.
        hub.publish([AlertFixtures.event(3, key: "CN-GD", state: .resolved, severity: .critical, startsAt: firing.startsAt, endsAt: now - Time.microsPerMinute)])
        let resolved = await AlertFixtures.eventually {
            guard let all = try? await alerts(port) else { return false }
            return all.isEmpty
        }
        #expect(resolved, "Alertmanager still lists the resolved alert as active")
        // Resends (every 2 s) do not bring it back.
        try await Task.sleep(for: .seconds(3))
        #expect(try await alerts(port).isEmpty)

        // Another alert fires; the pusher stops; the alert resolves while it is stopped. At the
        // next start the pusher takes the log from its cursor: Alertmanager learns the resolution.
        let other = AlertFixtures.event(4, key: "CN-SD", startsAt: now - 5 * Time.microsPerMinute)
        hub.publish([other])
        #expect(await AlertFixtures.eventually { (try? await alerts(port).count) == 1 })
        await group.triggerGracefulShutdown()
        try await task.value
        hub.publish([AlertFixtures.event(5, key: "CN-SD", state: .resolved, startsAt: other.startsAt, endsAt: now - Time.microsPerMinute)])
        let again = ServiceGroup(services: [AlertService(hub: hub, configuration: c, zone: .shanghai, logger: AlertFixtures.logger)],
                                 gracefulShutdownSignals: [], logger: AlertFixtures.logger)
        let task2 = Task { try await again.run() }
        #expect(await AlertFixtures.eventually { (try? await alerts(port).isEmpty) == true }, "the resolution logged while stopped was not pushed")
        await again.triggerGracefulShutdown()
        try await task2.value
    }
}

/// The Alertmanager request body, without a server.
@Suite struct AlertmanagerBodyTests {
    @Test func bodyCarriesLabelsAnnotationsAndTimes() throws {
        let dir = AlertFixtures.scratch("am-body")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger)
        let poster = AlertPoster(client: .shared, token: nil, timeout: .seconds(1))
        let p = AlertmanagerPusher(url: "http://127.0.0.1:9093/", hub: hub, poster: poster, configuration: .init(), zone: .shanghai, logger: AlertFixtures.logger)
        #expect(p.endpoint == "http://127.0.0.1:9093/api/v2/alerts")
        let t = AlertFixtures.t0
        let firing = AlertRecord.parse(AlertFixtures.event(1, startsAt: t).json(zone: .shanghai))!
        let resolved = AlertRecord.parse(AlertFixtures.event(2, state: .resolved, startsAt: t, endsAt: t + Time.microsPerHour).json(zone: .shanghai))!
        let text = String(decoding: p.body([firing, resolved], now: t + 2 * Time.microsPerHour), as: UTF8.self)
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: Any]]
        #expect(json.count == 2)
        #expect(json[0]["startsAt"] as? String == "2026-11-18T19:06:40+08:00")
        #expect(json[0]["endsAt"] == nil)
        #expect(json[1]["endsAt"] as? String == "2026-11-18T20:06:40+08:00")
        #expect((json[1]["labels"] as? [String: String])?["gridcarbon_id"] == "hot/province/CN-GD/1h")
        // A resolution ahead of the wall clock is sent as resolved now.
        let early = String(decoding: p.body([resolved], now: t + Time.microsPerMinute), as: UTF8.self)
        #expect(early.contains("\"endsAt\":\"2026-11-18T19:07:40+08:00\""))
    }

    @Test func severityChangesResolveTheOldAlertmanagerAlert() {
        func r(_ seq: Int64, _ sev: AlertSeverity, _ state: AlertState = .firing) -> AlertRecord {
            AlertRecord.parse(AlertFixtures.event(seq, state: state, severity: sev).json(zone: .shanghai))!
        }
        var sent: [String: String] = [:]
        #expect(AlertmanagerPusher.plan([r(1, .warning)], sent: &sent).map { "\($0.severity)/\($0.state)" } == ["warning/firing"])
        // Escalation: the warning is resolved, the critical fires.
        #expect(AlertmanagerPusher.plan([r(2, .critical)], sent: &sent).map { "\($0.severity)/\($0.state)" } == ["warning/resolved", "critical/firing"])
        #expect(AlertmanagerPusher.plan([r(3, .critical, .resolved)], sent: &sent).map { "\($0.severity)/\($0.state)" } == ["critical/resolved"])
        #expect(sent.isEmpty)
        // In one batch: the newest per Alertmanager alert.
        let batch = AlertmanagerPusher.plan([r(4, .warning), r(5, .critical), r(6, .warning)], sent: &sent)
        #expect(batch.map { "\($0.seq):\($0.severity)/\($0.state)" } == ["6:critical/resolved", "6:warning/firing"])
    }
}
