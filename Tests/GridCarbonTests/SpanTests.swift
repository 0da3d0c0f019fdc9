import Testing
@testable import GridCarbonEngine
import GridCarbonIO
@testable import GridCarbonModel

/// §3.1 energy spans, one test per rule.
@Suite struct SpanTests {
    let d = "2026-11-18T"

    @Test func registerPairMakesASpan() {
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,100", "r,A,\(d)10:15:00+08:00,112.5"])
        let row = h.row("15m", "\(d)10:00:00+08:00", .province, "CN-GD")
        #expect(row?.energy == 12.5)
        #expect(row?.spans == 1 && row?.meters == 1)
        #expect(h.engine.counts.accepted == 2)
    }

    @Test func firstReadingIsOnlyABaseline() {
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,100"])
        #expect(h.sink.windows.isEmpty)
        #expect(h.engine.counts.accepted == 1)
    }

    @Test func intervalRecordIsOneSpan() {
        let h = Harness().feed(["i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,4"])
        #expect(h.row("15m", "\(d)10:00:00+08:00", .enterprise, "E2")?.energy == 4)
    }

    @Test func resetMakesNoSpanAndRebaselines() {
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,500", "r,A,\(d)10:15:00+08:00,3", "r,A,\(d)10:30:00+08:00,5"])
        #expect(h.sink.anomalies.map(\.kind) == [.registerReset])
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN") == nil)
        #expect(h.row("15m", "\(d)10:15:00+08:00", .national, "CN")?.energy == 2)
    }

    @Test func implausibleJumpMakesNoSpanAndRebaselines() {
        // A has max_kw 1000: 300 kWh in 15 min is 1200 kW.
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,0", "r,A,\(d)10:15:00+08:00,300", "r,A,\(d)10:30:00+08:00,310"])
        #expect(h.sink.anomalies.map(\.kind) == [.implausibleJump])
        #expect(h.sink.anomalies[0].maxKW == 1000)
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN") == nil)
        #expect(h.row("15m", "\(d)10:15:00+08:00", .national, "CN")?.energy == 10)
    }

    @Test func exactlyMaxKWIsPlausible() {
        let h = Harness().feed(["r,A,\(d)10:00:00+08:00,0", "r,A,\(d)10:15:00+08:00,250"])
        #expect(h.sink.anomalies.isEmpty)
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN")?.energy == 250)
    }

    @Test func gapStillMakesTheSpanPlusAnAnomaly() {
        var s = EngineSettings()
        s.maxGap = 30 * Time.microsPerMinute
        let h = Harness(settings: s).feed(["r,B,\(d)10:00:00+08:00,0", "r,B,\(d)10:45:00+08:00,30"])
        #expect(h.sink.anomalies.map(\.kind) == [.meterGap])
        #expect(h.row("1d", "\(d)00:00:00+08:00", .national, "CN")?.energy == 30)
    }

    @Test func duplicateReadingIsDroppedAndCounted() {
        let h = Harness().feed(["r,B,\(d)10:00:00+08:00,1", "r,B,\(d)10:15:00+08:00,2", "r,B,\(d)10:15:00+08:00,2.0"])
        #expect(h.engine.counts.duplicate == 1)
        #expect(h.engine.counts.accepted == 2)
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN")?.spans == 1)
    }

    @Test func conflictingDuplicateIsRejectedAndTheFirstStays() {
        let h = Harness().feed(["r,B,\(d)10:00:00+08:00,1", "r,B,\(d)10:15:00+08:00,2", "r,B,\(d)10:15:00+08:00,9"])
        #expect(h.sink.rejected.map(\.0) == [.conflictingDuplicate])
        #expect(h.sink.rejected[0].2.line == 3)
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN")?.energy == 1)
    }

    @Test func exactRepeatOfIntervalIsADuplicateAndAResendWithAnotherValueIsRejected() {
        let line = "i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,4"
        let h = Harness().feed([line, line, "i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,5"])
        #expect(h.engine.counts.duplicate == 1)
        #expect(h.sink.rejected.map(\.0) == [.conflictingDuplicate])
        // The first stays: a corrected resend never adds to the original.
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN")?.energy == 4)
        #expect(h.row("15m", "\(d)10:00:00+08:00", .national, "CN")?.spans == 1)
    }

    @Test func readingsOutOfOrderInsideTheWindowGiveTheSortedSpans() {
        let sorted = ["r,C,\(d)10:00:00+08:00,20", "r,C,\(d)10:05:00+08:00,20.1", "r,C,\(d)10:10:00+08:00,20.3", "r,C,\(d)10:20:00+08:00,20.4"]
        let shuffled = [sorted[0], sorted[2], sorted[1], sorted[3]]
        let a = Harness().feed(sorted), b = Harness().feed(shuffled)
        #expect(a.engine.counts == b.engine.counts)
        #expect(a.sink.windows.map(\.rows) == b.sink.windows.map(\.rows))
        #expect(a.row("15m", "\(d)10:00:00+08:00", .national, "CN")?.spans == 3)
    }

    @Test func zeroEnergySpanCountsAndMakesARow() {
        let h = Harness().feed(["r,B,\(d)10:00:00+08:00,7", "r,B,\(d)10:15:00+08:00,7"])
        let row = h.row("15m", "\(d)10:00:00+08:00", .enterprise, "E2")
        #expect(row?.energy == 0 && row?.meters == 1 && row?.spans == 1)
        let csv = String(decoding: AggregateCSV.render(h.sink.windows[0], registry: h.registry, formatter: TimeFormatter(zone: .shanghai)), as: UTF8.self)
        #expect(csv.contains("national,CN,0,0,,1,1,\n"))
    }
}
