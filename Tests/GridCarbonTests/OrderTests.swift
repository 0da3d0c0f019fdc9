import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// Order-insensitivity (§3.4): the same records shuffled inside the reorder window give
/// byte-identical aggregate files.
@Suite struct OrderTests {
    /// A fleet with jittered read times (so shuffles cross timestamps), interval meters, factor feeds.
    static func fleet(meters: Int, hours: Int, seed: UInt64) -> (registry: String, lines: [(arrival: Micros, line: String)]) {
        var rng = SplitMix(seed: seed)
        var reg = "meter_id,region,city,park,enterprise,industry,max_kw\n"
        let provinces = Array(Region.codes.dropFirst())
        for m in 0..<meters {
            let p = provinces[m % provinces.count]
            reg += "M\(m),\(p),\(p)-C\(m % 3),\(m % 4 == 0 ? "PK\(m % 5)" : ""),E\(m % 17),\(["C", "D", "F", "I"][m % 4]),\n"
        }
        let f = TimeFormatter(zone: .shanghai)
        let start = Harness.t("2026-11-18T00:00:00+08:00")
        var out: [(Micros, String)] = []
        var value = [Double](repeating: 100, count: meters)
        // Interval meters report back to back (§3.1: intervals of a meter must not overlap).
        var lastEnd = [Micros](repeating: start - 5 * Time.microsPerMinute, count: meters)
        for step in 0..<(hours * 12) {
            let nominal = start + Int64(step) * 5 * Time.microsPerMinute
            for m in 0..<meters {
                let t = nominal + Int64(rng.next() % 240) * Time.microsPerSecond
                let e = Double(rng.next() % 10_000) / 1000
                if m % 7 == 3 {
                    out.append((t, "i,M\(m),\(f.string(lastEnd[m])),\(f.string(t)),\(e)"))
                    lastEnd[m] = t
                } else {
                    value[m] += e
                    out.append((t, "r,M\(m),\(f.string(t)),\(value[m])"))
                }
            }
            if step % 12 == 0 {
                out.append((nominal, "f,CN-GD,\(f.string(nominal)),\(f.string(nominal + Time.microsPerHour / 3)),\(0.3 + Double(step % 50) / 100)"))
                out.append((nominal, "m,CN-YN,\(f.string(nominal)),\(f.string(nominal + Time.microsPerHour)),hydro,\(800 + step)"))
                out.append((nominal, "m,CN-YN,\(f.string(nominal)),\(f.string(nominal + Time.microsPerHour)),coal,\(100 + step % 7)"))
                // Reference §9.1: exchanges make the mix factors flow-traced (§9.3); outputs and contracts are held.
                let hourEnd = f.string(nominal + Time.microsPerHour)
                out.append((nominal, "m,CN-SC,\(f.string(nominal)),\(hourEnd),hydro,\(1500 + step)"))
                out.append((nominal, "m,CN-SC,\(f.string(nominal)),\(hourEnd),coal,\(300 - step % 11)"))
                out.append((nominal, "m,CN-GD,\(f.string(nominal)),\(hourEnd),coal,\(900 + step % 5)"))
                out.append((nominal, "x,CN-SC,CN-YN,\(f.string(nominal)),\(hourEnd),\(200 + step % 13)"))
                out.append((nominal, "x,CN-YN,CN-GD,\(f.string(nominal)),\(hourEnd),\(350 + step % 3)"))
                out.append((nominal, "x,CN-SC,CN-GD,\(f.string(nominal + Time.microsPerHour / 2)),\(hourEnd),\(80 + step % 7)"))
                out.append((nominal, "x,CN-GZ,CN-GD,\(f.string(nominal)),\(hourEnd),120"))
                out.append((nominal, "o,enterprise,E\(step % 17),\(f.string(nominal)),\(hourEnd),\(step + 1),t"))
                out.append((nominal, "c,E\(step % 17),\(f.string(nominal)),\(hourEnd),\(step % 9),gpt"))
            }
        }
        return (reg, out)
    }

    func replay(registry: String, lines: [String], name: String, alerts: AlertSettings = AlertSettings()) throws -> (TempDir, ReplaySummary) {
        let dir = try TempDir(name)
        let reg = dir.path + "/registry.csv", rec = dir.path + "/records.csv"
        try Files.writeAtomically(reg, Array(registry.utf8), sync: false)
        try Files.writeAtomically(rec, Array((lines.joined(separator: "\n") + "\n").utf8), sync: false)
        var job = ReplayJob(registryPath: reg, dataDirectory: dir.path + "/data", inputs: [rec])
        job.sync = false
        job.alerts = alerts
        return (dir, try Replay.run(job))
    }

    @Test func shuffledInsideTheReorderWindowGivesTheSameBytes() throws {
        let (registry, records) = Self.fleet(meters: 120, hours: 6, seed: 3)
        let sorted = records.sorted { $0.arrival < $1.arrival }.map(\.line)
        // Each record is delayed by up to 14 minutes: a disorder strictly inside the 15-minute window.
        var rng = SplitMix(seed: 11)
        let shuffled = records.map { ($0.arrival + Int64(rng.next() % 840) * Time.microsPerSecond + Int64(rng.next() % 1000), $0.line) }
            .sorted { $0.0 < $1.0 }.map(\.1)
        #expect(shuffled != sorted)
        let (a, sa) = try replay(registry: registry, lines: sorted, name: "sorted")
        let (b, sb) = try replay(registry: registry, lines: shuffled, name: "shuffled")
        #expect(sa.counts == sb.counts)
        #expect(sa.counts.late == 0 && sa.counts.rejected == 0)
        let files = try Files.walk(a.path + "/data/aggregates", suffix: ".csv.zst")
        // 6 hours of 15m/1h windows and the day, plus the first interval records reaching back into
        // the previous day (23:55): one more 15m, 1h and 1d window.
        #expect(files.count == (6 * 4 + 6 + 1) + 3)
        for f in files {
            let other = b.path + f.dropFirst(a.path.count)
            #expect(try Files.read(f) == Files.read(other), "\(f)")
        }
    }

    @Test func shuffledInsideTheReorderWindowRaisesTheSameAlerts() throws {
        var (registry, records) = Self.fleet(meters: 120, hours: 6, seed: 5)
        // Meters 5 and 16 (a register and an interval meter) fall silent for two hours: a
        // silent-meter alert that fires and resolves, with gaps closed by registers and intervals.
        let quiet = (Harness.t("2026-11-18T02:00:00+08:00"), Harness.t("2026-11-18T04:00:00+08:00"))
        records.removeAll { r in (r.line.contains(",M5,") || r.line.contains(",M17,")) && r.arrival > quiet.0 && r.arrival < quiet.1 }
        records.append((Harness.t("2026-11-18T03:10:00+08:00"), "r,M8,2026-11-18T03:10:00+08:00,1"))   // a reset: an anomaly
        let sorted = records.sorted { $0.arrival < $1.arrival }.map(\.line)
        var rng = SplitMix(seed: 13)
        let shuffled = records.map { ($0.arrival + Int64(rng.next() % 840) * Time.microsPerSecond + Int64(rng.next() % 1000), $0.line) }
            .sorted { $0.0 < $1.0 }.map(\.1)
        var hot = AlertRule(name: "hot", kind: .intensity)
        hot.threshold = 0.7
        hot.window = 15 * Time.microsPerMinute
        var budget = AlertRule(name: "budget", kind: .budget)
        budget.warnRatio = 0.3
        var forecast = AlertRule(name: "forecast", kind: .forecast)
        forecast.lookback = Time.microsPerHour
        var quality = AlertRule(name: "quality", kind: .dataQuality)
        quality.threshold = 1; quality.silentAfter = 30 * Time.microsPerMinute; quality.maxAnomalyRate = 0.01
        quality.window = 15 * Time.microsPerMinute
        let alerts = AlertSettings(rules: [hot, budget, forecast, quality], budgets: [
            Budget(level: .national, key: "CN", period: .day, kg: 2000), Budget(level: .enterprise, key: "E3", period: .day, kg: 60),
            Budget(level: .province, key: "CN-GD", period: .month, kg: 100)])
        func run(_ lines: [String], _ name: String) throws -> [UInt8] {
            let (dir, _) = try replay(registry: registry, lines: lines, name: name, alerts: alerts)
            return try AlertLog.read(directory: dir.path + "/data/alerts").flatMap(\.line)
        }
        let a = try run(sorted, "alerts-sorted"), b = try run(shuffled, "alerts-shuffled")
        let text = String(decoding: a, as: UTF8.self)
        for id in ["hot/province/", "budget/national/CN/day", "budget/enterprise/E3/day", "forecast/", "/silent", "/anomaly_rate"] {
            #expect(text.contains(id), "no \(id) event")
        }
        #expect(text.contains("\"state\":\"resolved\""))
        #expect(a == b)
    }
}
