import Testing
@testable import GridCarbonEngine
import GridCarbonIO
@testable import GridCarbonModel

/// §3.2 slots and §3.3 factors.
@Suite struct SlotAndFactorTests {
    let d = "2026-11-18T"
    let gd2023 = 0.4419

    @Test func spanSplitsAcrossSlotBoundariesByOverlap() {
        // 30 kWh over 10:10–10:40: 5, 15 and 10 minutes of 30.
        let h = Harness().feed(["i,B,\(d)10:10:00+08:00,\(d)10:40:00+08:00,30"])
        #expect(approx(h.row("15m", "\(d)10:00:00+08:00", .national, "CN")!.energy, 5))
        #expect(approx(h.row("15m", "\(d)10:15:00+08:00", .national, "CN")!.energy, 15))
        #expect(approx(h.row("15m", "\(d)10:30:00+08:00", .national, "CN")!.energy, 10))
        // The hour window holds the span once.
        #expect(h.row("1h", "\(d)10:00:00+08:00", .national, "CN")?.spans == 1)
        #expect(h.row("15m", "\(d)10:15:00+08:00", .national, "CN")?.spans == 1)
    }

    @Test func spanEndingOnABoundaryStaysInItsSlot() {
        let h = Harness().feed(["i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,4"])
        #expect(h.row("15m", "\(d)10:15:00+08:00", .national, "CN") == nil)
    }

    @Test func slotFactorIsTimeWeightedOverPartialCoverage() {
        // f covers 10:15–10:20 of the 10:15 slot: 5 min at 0.52, 10 min at the annual factor.
        let h = Harness().feed(["f,CN-GD,\(d)10:00:00+08:00,\(d)10:20:00+08:00,0.52",
                                "i,B,\(d)10:15:00+08:00,\(d)10:30:00+08:00,3"])
        let row = h.row("15m", "\(d)10:15:00+08:00", .province, "CN-GD")!
        let factor = (0.52 * 300 + gd2023 * 600) / 900
        #expect(approx(row.co2 / row.energy, factor, rel: 1e-12))
        #expect(approx(row.realtimeEnergy / row.energy, 1.0 / 3.0))
    }

    @Test func mixFactorFromSources() {
        // 90 % hydro, 10 % coal → 0.076.
        let h = Harness().feed(["m,CN-YN,\(d)10:00:00+08:00,\(d)12:00:00+08:00,hydro,900",
                                "m,CN-YN,\(d)10:00:00+08:00,\(d)12:00:00+08:00,coal,100",
                                "i,C,\(d)10:00:00+08:00,\(d)10:15:00+08:00,2"])
        let row = h.row("15m", "\(d)10:00:00+08:00", .province, "CN-YN")!
        #expect(approx(row.co2, 2 * 0.076))
        #expect(row.realtimeEnergy == row.energy)
    }

    @Test func laterMixRecordReplacesTheEarlier() {
        let h = Harness().feed(["m,CN-YN,\(d)10:00:00+08:00,\(d)11:00:00+08:00,coal,100",
                                "m,CN-YN,\(d)10:00:00+08:00,\(d)11:00:00+08:00,hydro,100",
                                "m,CN-YN,\(d)10:00:00+08:00,\(d)11:00:00+08:00,coal,0",
                                "i,C,\(d)10:00:00+08:00,\(d)10:15:00+08:00,1"])
        #expect(h.row("15m", "\(d)10:00:00+08:00", .province, "CN-YN")!.co2 == 0)
    }

    @Test func mixOfDifferentRecordLengthsWeighsAveragePower() {
        // coal 100 MWh over 1 h (100 MW) and hydro 300 MWh over 3 h (100 MW): half and half.
        let h = Harness().feed(["m,CN-YN,\(d)10:00:00+08:00,\(d)11:00:00+08:00,coal,100",
                                "m,CN-YN,\(d)09:00:00+08:00,\(d)12:00:00+08:00,hydro,300",
                                "i,C,\(d)10:00:00+08:00,\(d)10:15:00+08:00,1"])
        #expect(approx(h.row("15m", "\(d)10:00:00+08:00", .province, "CN-YN")!.co2, 0.38))
    }

    @Test func realtimeFactorBeatsMixBeatsAnnual() {
        var book = FactorBook(annual: .embedded, sources: .embedded, zone: .shanghai)
        let s = Harness.t("\(d)10:00:00+08:00"), m5 = 5 * Time.microsPerMinute
        book.addMix(region: 19, start: s, end: s + 10 * m5, source: .coal, mwh: 10)       // 0.76 from 10:00
        let added = book.addFactor(region: 19, start: s, end: s + m5, value: 0.3)        // 0.3 for 10:00–10:05
        #expect(added)
        let f = book.slotFactor(region: 19, start: s, end: s + 3 * m5)
        #expect(approx(f.kgPerKWh, (0.3 + 0.76 * 2) / 3))
        #expect(f.realtimeShare == 1)
        let later = book.slotFactor(region: 19, start: s + 12 * m5, end: s + 15 * m5)
        #expect(later.kgPerKWh == gd2023 && later.realtimeShare == 0)
    }

    @Test func overlappingFactorIsRejectedAndExactRepeatReplaces() {
        let h = Harness().feed(["f,CN-GD,\(d)10:00:00+08:00,\(d)11:00:00+08:00,0.5",
                                "f,CN-GD,\(d)10:30:00+08:00,\(d)11:30:00+08:00,0.6",
                                "f,CN-GD,\(d)10:00:00+08:00,\(d)11:00:00+08:00,0.4",
                                "f,CN-GD,\(d)11:00:00+08:00,\(d)12:00:00+08:00,0.7",
                                "i,B,\(d)10:00:00+08:00,\(d)10:15:00+08:00,10"])
        #expect(h.sink.rejected.map(\.0) == [.overlappingFactor])
        #expect(h.engine.counts.accepted == 4)
        #expect(approx(h.row("15m", "\(d)10:00:00+08:00", .province, "CN-GD")!.co2, 4))
    }

    @Test func yearRuleUsesTheSlotYearOrTheLatestEarlier() {
        let t = AnnualFactorTable.embedded
        #expect(t.factor(region: 19, year: 2022).value == 0.4403)
        #expect(t.factor(region: 19, year: 2026).value == gd2023)
        #expect(t.factor(region: 19, year: 2026).year == 2023)
        // Before the first published year there is no earlier one: the earliest is used.
        #expect(t.factor(region: 19, year: 2019).value == 0.4715)
    }

    @Test func tibetFallsBackToNational() {
        let t = AnnualFactorTable.embedded
        let xz = Region.index(of: "CN-XZ")!
        #expect(t.factor(region: xz, year: 2026).value == 0.5306)
        #expect(t.factor(region: xz, year: 2026).region == Region.national)
        #expect(t.factor(region: xz, year: 2022).value == 0.5366)
        let h = Harness().feed(["i,T,\(d)10:00:00+08:00,\(d)10:15:00+08:00,2"])
        #expect(approx(h.row("15m", "\(d)10:00:00+08:00", .province, "CN-XZ")!.co2, 2 * 0.5306))
    }

    @Test func slotYearIsTheLocalYearOfItsStart() {
        // 2022-12-31 23:45 local is still 2022 (0.4403 for Guangdong); UTC says 15:45 the same day.
        let h = Harness().feed(["i,B,2022-12-31T23:45:00+08:00,2023-01-01T00:15:00+08:00,2"])
        #expect(approx(h.row("15m", "2022-12-31T23:45:00+08:00", .province, "CN-GD")!.co2, 0.4403))
        #expect(approx(h.row("15m", "2023-01-01T00:00:00+08:00", .province, "CN-GD")!.co2, gd2023))
    }

    @Test func windowsAreAlignedToTheZone() {
        let h = Harness().feed(["i,B,\(d)23:45:00+08:00,\(d)23:59:00+08:00,1"])
        #expect(h.row("1d", "\(d)00:00:00+08:00", .national, "CN")?.energy == 1)
        let w = h.sink.windows.first { $0.length == Time.microsPerDay }!
        #expect(AggregateCSV.relativePath(w, zone: .shanghai) == "aggregates/window=1d/date=2026-11-18/0000.csv.zst")
    }
}
