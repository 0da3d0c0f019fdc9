import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO

/// The dashboard's page and the endpoints it reads (reference §6) on the real daemon: the worked
/// example's lines over TCP, then `GET /v1/series`, `/v1/province`, `/v1/budgets` and
/// `/v1/factors?at=` against `GET /v1/aggregates` and `/v1/totals`; with tokens on, only the page
/// and its assets are open.
@Suite(.serialized)
struct DashboardDaemonTests {
    func scratch(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "gridcarbon-dashboard-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The example's lines and one more reading at 12:30 that moves the watermark to 12:15, so the
    /// 10:00 hour closes by data while the 10:00-12:00 mix records are still held.
    func feed(_ d: DaemonProcess, auth: String? = nil) throws {
        let lines = String(decoding: try Files.read(DaemonProcess.example + "/records.csv"), as: UTF8.self)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.joined(separator: "\n")
        let tcp = try LineClient(port: d.tcpPort)
        if let auth {
            try tcp.send("!auth \(auth)\n")
            #expect(try tcp.readLine() == "ok auth")
        }
        try tcp.send(lines + "\ni,M2,2026-11-18T12:15:00+08:00,2026-11-18T12:30:00+08:00,1\n!sync\n")
        #expect(try tcp.readLine().hasPrefix("ok "))
    }

    @Test func pageAndEndpoints() throws {
        let dir = scratch("endpoints")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/config.json", Array(#"{"alerts": {"budgets": "budgets.csv", "rules": [{"name": "budget", "kind": "budget", "warn_ratio": 0.5}]}}"#.utf8), sync: false)
        try Files.writeAtomically(dir + "/budgets.csv", Array("level,key,period,budget_kg\nprovince,CN-GD,day,100\nnational,CN,month,5000\n".utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--config", dir + "/config.json", "--idle-timeout", "1h"])
        defer { d.stop() }

        let page = try d.http("GET", "/")
        #expect(page.status == 200 && page.body.contains("<meta name=\"gridcarbon-auth\" content=\"none\">") && page.body.contains("/dashboard.js"))
        #expect(page.body.contains("<meta name=\"gridcarbon-window\" content=\"1h\">"))
        #expect(!page.body.contains("http://") && !page.body.contains("https://"))
        #expect(try d.http("GET", "/dashboard.js").body.contains("/v1/alerts/stream"))
        #expect(try d.http("GET", "/dashboard.css").status == 200)

        try feed(d)
        // The 10:00 hour, from /v1/aggregates, is the series' one point.
        let agg = try object(try d.http("GET", "/v1/aggregates?window=1h&level=province&key=CN-GD").body)
        let window = try #require((agg["windows"] as? [[String: Any]])?.last)
        let row = try #require((window["rows"] as? [[String: Any]])?.first)
        let series = try object(try d.http("GET", "/v1/series?level=province&key=CN-GD&window=1h&hours=24").body)
        let points = try #require(series["points"] as? [[String: Any]])
        #expect(points.count == 1)
        #expect(points.first?["window_start"] as? String == "2026-11-18T10:00:00+08:00")
        for k in ["energy_kwh", "co2_kg", "intensity_kg_per_kwh", "realtime_share"] {
            #expect((points.first?[k] as? Double) == (row[k] as? Double), "\(k)")
        }
        let national = try object(try d.http("GET", "/v1/series").body)
        #expect(national["level"] as? String == "national" && national["key"] as? String == "CN" && national["window"] as? String == "1h")
        #expect((national["points"] as? [Any])?.count == 1)
        #expect(try d.http("GET", "/v1/series?level=city").body.contains("\"error\":\"bad_key\""))
        #expect(try d.http("GET", "/v1/series?window=7m").body.contains("\"error\":\"bad_window\""))
        #expect(try d.http("GET", "/v1/series?hours=0").status == 400)
        #expect(try d.http("GET", "/v1/series?level=planet&key=x").body.contains("\"error\":\"bad_level\""))

        // Guangdong's city, park and industries today, equal to their own totals.
        let gd = try object(try d.http("GET", "/v1/province?key=CN-GD").body)
        #expect(gd["day"] as? String == "2026-11-18")
        let cities = try #require(gd["cities"] as? [[String: Any]])
        #expect(cities.map { $0["key"] as? String } == ["CN-GD-SZ"])
        #expect((gd["parks"] as? [[String: Any]])?.map { $0["key"] as? String } == ["SZ-PARK-1"])
        #expect((gd["industries"] as? [[String: Any]])?.map { $0["key"] as? String } == ["C", "D"])
        let city = try #require((try object(try d.http("GET", "/v1/totals?level=city&key=CN-GD-SZ").body)["totals"] as? [[String: Any]])?.first)
        #expect(cities[0]["day_co2_kg"] as? Double == city["day_co2_kg"] as? Double)
        #expect(try d.http("GET", "/v1/province?key=CN").body.contains("\"error\":\"bad_key\""))

        // Budgets with their emissions to date (the slot closes so far).
        let budgets = try #require(try object(try d.http("GET", "/v1/budgets").body)["budgets"] as? [[String: Any]])
        #expect(budgets.map { "\($0["level"]!)/\($0["key"]!)/\($0["period"]!)" } == ["province/CN-GD/day", "national/CN/month"])
        #expect(budgets.first?["budget_kg"] as? Double == 100 && budgets.first?["warn_ratio"] as? Double == 0.5)
        let gdTotal = try #require((try object(try d.http("GET", "/v1/totals?level=province&key=CN-GD").body)["totals"] as? [[String: Any]])?.first)
        let toDate = try #require(budgets.first?["to_date_kg"] as? Double), dayCO2 = try #require(gdTotal["day_co2_kg"] as? Double)
        #expect(toDate > 0 && abs(toDate - dayCO2) < 1e-6)

        // The factor in force and its §3.3 rule: the 10:00 slot, then the hour.
        let plain = try d.http("GET", "/v1/factors").body
        #expect(!plain.contains("in_force"))
        let slot = try object(try d.http("GET", "/v1/factors?at=2026-11-18T10:05:00%2B08:00").body)
        #expect(slot["in_force_start"] as? String == "2026-11-18T10:00:00+08:00" && slot["in_force_end"] as? String == "2026-11-18T10:15:00+08:00")
        let inForce = Dictionary(uniqueKeysWithValues: try #require(slot["in_force"] as? [[String: Any]]).map { ($0["region"] as! String, $0) })
        #expect(inForce.count == 31)
        #expect(inForce["CN-GD"]?["basis"] as? String == "realtime" && inForce["CN-GD"]?["kg_per_kwh"] as? Double == 0.52)
        #expect(inForce["CN-YN"]?["basis"] as? String == "mix")
        #expect(inForce["CN-XZ"]?["basis"] as? String == "national")
        #expect(inForce["CN-BJ"]?["basis"] as? String == "annual")
        // 20 minutes of 0.52, 40 of the annual 0.4419: mostly annual.
        let hour = try object(try d.http("GET", "/v1/factors?at=1794967200&window=1h").body)
        let gdHour = try #require((hour["in_force"] as? [[String: Any]])?.first { $0["region"] as? String == "CN-GD" })
        #expect(hour["in_force_start"] as? String == "2026-11-18T10:00:00+08:00")
        #expect(gdHour["basis"] as? String == "annual")
        #expect(abs((gdHour["kg_per_kwh"] as? Double ?? 0) - (20 * 0.52 + 40 * 0.4419) / 60) < 1e-6)
        #expect(try d.http("GET", "/v1/factors?at=yesterday").body.contains("\"error\":\"bad_time\""))
        #expect(try d.http("GET", "/v1/factors?at=1794967200&window=7m").body.contains("\"error\":\"bad_window\""))
        #expect(d.stop() == 0)
    }

    @Test func tokensOpenOnlyThePage() throws {
        let dir = scratch("tokens")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reader = "read-token-0123456789ab", ingest = "ingest-token-0123456789"
        try Files.writeAtomically(dir + "/tokens", Array("read \(reader)\ningest \(ingest)\n".utf8), sync: false)
        let d = try DaemonProcess(data: dir + "/serve", registry: DaemonProcess.example + "/registry.csv",
                                  extra: ["--tokens", dir + "/tokens", "--idle-timeout", "1h", "--windows", "15m,1d"], readyToken: reader)
        defer { d.stop() }
        let page = try d.http("GET", "/")
        #expect(page.status == 200 && page.body.contains("<meta name=\"gridcarbon-auth\" content=\"required\">"))
        // Without 1h windows the page shows the shortest.
        #expect(page.body.contains("<meta name=\"gridcarbon-window\" content=\"15m\">"))
        #expect(try d.http("GET", "/dashboard.js").status == 200 && d.http("GET", "/dashboard.css").status == 200)
        #expect(try d.http("POST", "/").status == 401)
        try feed(d, auth: ingest)
        for path in ["/v1/series", "/v1/province?key=CN-GD", "/v1/budgets", "/v1/factors?at=1794967200", "/v1/aggregates", "/index.html"] {
            let r = try d.http("GET", path)
            #expect(r.status == 401 && r.body.contains("\"error\":\"unauthorized\""), "\(path)")
        }
        #expect(try d.http("GET", "/v1/series?level=province&key=CN-GD", headers: ["Authorization": "Bearer \(ingest)"]).status == 403)
        let withToken = try d.http("GET", "/v1/series?level=province&key=CN-GD", headers: ["Authorization": "Bearer \(reader)"])
        #expect(withToken.status == 200 && withToken.body.contains("\"window_start\":\"2026-11-18T10:00:00+08:00\""))
        #expect(d.stop() == 0)
    }
}
