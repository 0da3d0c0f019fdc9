import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// §3.4 watermark, lateness, closing.
@Suite struct WatermarkTests {
    let d = "2026-11-18T"

    @Test func watermarkTrailsTheNewestMeterRecordAndNeverGoesBack() {
        let h = Harness().feed(["r,A,\(d)10:30:00+08:00,1", "r,B,\(d)10:20:00+08:00,1"], finish: false)
        #expect(h.engine.watermark == Harness.t("\(d)10:15:00+08:00"))
        h.feed(["i,B,\(d)10:00:00+08:00,\(d)10:40:00+08:00,1"], finish: false)
        #expect(h.engine.watermark == Harness.t("\(d)10:25:00+08:00"))
    }

    @Test func recordAtOrBeforeTheWatermarkIsLate() {
        let h = Harness().feed(["r,A,\(d)10:30:00+08:00,10", "r,A,\(d)10:15:00+08:00,5", "i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,1",
                                "r,A,\(d)10:15:00.000001+08:00,6"])
        #expect(h.engine.counts.late == 2)
        #expect(h.engine.counts.accepted == 2)
        #expect(h.sink.late == ["r,A,\(d)10:15:00+08:00,5", "i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,1"])
    }

    @Test func lateRepeatIsLateNotDuplicate() {
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,1", "r,A,\(d)10:30:00+08:00,2", "r,A,\(d)10:00:00+08:00,1"])
        #expect(h.engine.counts.late == 1 && h.engine.counts.duplicate == 0)
    }

    @Test func factorAndMixRecordsNeverMoveTheWatermark() {
        let h = Harness().feed(["f,CN-GD,2027-01-01T00:00:00+08:00,2027-01-01T01:00:00+08:00,0.5",
                                "m,CN-GD,2027-01-01T00:00:00+08:00,2027-01-01T01:00:00+08:00,coal,5"], finish: false)
        #expect(h.engine.watermark == Time.distantPast)
        #expect(h.engine.counts.accepted == 2)
    }

    @Test func futureMeterRecordIsRejected() {
        let now = Harness.t("\(d)10:00:00+08:00")
        let h = Harness(now: now).feed(["r,A,\(d)10:15:00+08:00,1", "r,A,\(d)10:15:01+08:00,1"])
        #expect(h.sink.rejected.map(\.0) == [.futureTimestamp])
        #expect(h.engine.watermark == Time.distantFuture)
    }

    @Test func rejectedLinesNeverMoveTheWatermark() {
        let h = Harness().feed(["r,M9,\(d)12:00:00+08:00,1", "r,A,\(d)13:00:00+08:00,x"], finish: false)
        #expect(h.engine.watermark == Time.distantPast)
    }

    @Test func spanLongerThanTheHorizonSendsItsClosedPartToLateSpan() {
        // B reads at 08:00, then C's interval moves W to 09:45 (slots up to 08:45 closed), then B
        // reads again at 10:00: once W reaches 10:00 the 08:00–08:45 part is late, 08:45–10:00 attributed.
        let h = Harness().feed(["r,B,\(d)08:00:00+08:00,0", "i,C,\(d)09:45:00+08:00,\(d)10:00:00+08:00,1",
                                "r,B,\(d)10:00:00+08:00,120", "i,C,\(d)10:00:00+08:00,\(d)10:15:00+08:00,1"])
        #expect(h.sink.lateSpans.count == 1)
        let l = h.sink.lateSpans[0]
        #expect(l.start == Harness.t("\(d)08:00:00+08:00") && l.end == Harness.t("\(d)08:45:00+08:00"))
        #expect(approx(l.kwh, 45))
        #expect(approx(h.row("1d", "\(d)00:00:00+08:00", .enterprise, "E2")!.energy, 75))
        #expect(h.row("15m", "\(d)08:30:00+08:00", .enterprise, "E2") == nil)
        #expect(approx(h.row("15m", "\(d)08:45:00+08:00", .enterprise, "E2")!.energy, 15))
    }

    @Test func spansUpToTheHorizonAlwaysLandInOpenSlots() {
        // A 1 h span attributed when W jumps far ahead: the move attributes before it closes.
        let h = Harness().feed(["r,B,\(d)09:00:00+08:00,0", "r,B,\(d)10:00:00+08:00,60", "r,A,\(d)18:00:00+08:00,0"])
        #expect(h.sink.lateSpans.isEmpty)
        #expect(h.row("1h", "\(d)09:00:00+08:00", .national, "CN")?.energy == 60)
    }

    @Test func endOfInputClosesEverything() {
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,0", "r,A,\(d)10:15:00+08:00,1"])
        #expect(h.engine.watermark == Time.distantFuture)
        #expect(h.engine.pendingCount == 0)
        #expect(h.sink.windows.map { DurationFormat.format($0.length) } == ["15m", "1h", "1d"])
    }

    @Test func slotClosesOnlyOnceTheWatermarkPassesItsEndPlusHorizon() {
        let h = Harness().feed(["i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,1", "r,A,\(d)11:29:59+08:00,0"], finish: false)
        #expect(h.sink.windows.isEmpty)   // W = 11:14:59 < 10:15 + 1 h
        h.feed(["r,A,\(d)11:30:00+08:00,0"], finish: false)
        #expect(h.sink.windows.map { DurationFormat.format($0.length) } == ["15m"])
    }

    @Test func conservationWithLateRecordsAndLongGaps() {
        // Random fleet with silences and late arrivals: national energy + late_span = all spans.
        var rng = SplitMix(seed: 99)
        var lines: [String] = []
        var reg = [0.0, 0.0, 0.0]
        let ids = ["A", "B", "C"]
        let base = Harness.t("\(d)00:00:00+08:00")
        var spansEnergy = 0.0
        var last: [Micros?] = [nil, nil, nil]
        let f = TimeFormatter(zone: .shanghai)
        for step in 0..<200 {
            let t = base + Int64(step) * 5 * Time.microsPerMinute
            for m in 0..<3 {
                if m == 1 && step % 60 >= 20 && step % 60 < 45 { continue } // B goes silent for two hours
                if rng.next() % 40 == 0 && step > 30 {         // a late straggler
                    lines.append("r,\(ids[m]),\(f.string(t - 3 * Time.microsPerHour)),1")
                    continue
                }
                let e = Double(rng.next() % 1000) / 100
                reg[m] += e
                lines.append("r,\(ids[m]),\(f.string(t)),\(reg[m])")
                if last[m] != nil { spansEnergy += e }
                last[m] = t
            }
        }
        // A's max_kw bound cannot trip: at most 10 kWh per 5 min = 120 kW.
        let h = Harness().feed(lines)
        #expect(h.engine.counts.late > 0)
        #expect(!h.sink.lateSpans.isEmpty)
        // Energy of the late stragglers never counts; every other reading forms a span.
        let lateSpan = h.sink.lateSpans.reduce(0) { $0 + $1.kwh }
        for len in ["15m", "1h", "1d"] {
            let national = h.sink.rows(length: DurationFormat.parse(len)!, registry: h.registry).filter { $0.1 == .national }.reduce(0) { $0 + $1.3.energy }
            #expect(approx(national + lateSpan, spansEnergy, rel: 1e-9), "\(len)")
        }
    }
}

/// §4.2 running totals: day, month and year to date, rolled over at local midnight.
@Suite struct TotalsTests {
    @Test func totalsRollOverByLocalPeriods() {
        let h = Harness().feed([
            "i,B,2026-11-30T23:00:00+08:00,2026-11-30T23:15:00+08:00,10",   // November
            "i,B,2026-12-01T00:00:00+08:00,2026-12-01T00:15:00+08:00,4",    // a new day and month
            "i,B,2026-12-01T01:00:00+08:00,2026-12-01T01:15:00+08:00,6",
        ])
        let (d, m, y) = h.engine.totals.rollUp(level: .enterprise, registry: h.registry)
        let e2 = h.registry.keyNames[Level.enterprise.rawValue].firstIndex(of: "E2")!
        #expect(d[e2].energy == 10 && m[e2].energy == 10 && y[e2].energy == 20)
        #expect(approx(y[e2].co2, 20 * 0.4419))
        let csv = String(decoding: h.engine.totals.csv(registry: h.registry, levels: [.national, .enterprise]), as: UTF8.self)
        #expect(csv.contains("enterprise,E2,2026-12-01,10,4.419,2026-12,10,4.419,2026,20,8.838\n"))
        #expect(csv.contains("national,CN,2026-12-01,10,"))
    }

    @Test func meterLevelGivesPerMeterRows() {
        var s = EngineSettings()
        s.levels = [.national, .meter]
        let h = Harness(settings: s).feed(["i,B,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,4",
                                           "i,A,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,1"])
        let w = h.sink.windows.first { $0.length == 15 * Time.microsPerMinute }!
        #expect(w.rows.map { "\($0.level.name),\(h.registry.keyNames[$0.level.rawValue][Int($0.key)])" } == ["meter,A", "meter,B", "national,CN"])
    }
}
