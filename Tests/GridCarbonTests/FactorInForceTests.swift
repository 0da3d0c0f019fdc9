import Testing
@testable import GridCarbonEngine
import GridCarbonModel

/// The factor in force over a slot or hour and the §3.3 rule it came from (reference §6
/// `GET /v1/factors?at=`), and mix records kept a day after their slots close.
struct FactorInForceTests {
    let gd = Region.index(of: "CN-GD")!, yn = Region.index(of: "CN-YN")!, xz = Region.index(of: "CN-XZ")!, bj = Region.index(of: "CN-BJ")!
    let s = Harness.t("2026-11-18T10:00:00+08:00")
    let m5 = 5 * Time.microsPerMinute, hour = Time.microsPerHour

    func book() -> FactorBook {
        var b = FactorBook(annual: .embedded, sources: .embedded, zone: .shanghai)
        _ = b.addFactor(region: gd, start: s, end: s + 4 * m5, value: 0.52)      // 10:00-10:20
        b.addMix(region: yn, start: s, end: s + hour, source: .hydro, mwh: 90)
        b.addMix(region: yn, start: s, end: s + hour, source: .coal, mwh: 10)
        return b
    }

    @Test func eachRuleIsNamed() {
        let b = book()
        let slot = { (r: Int) in b.inForce(region: r, start: self.s, end: self.s + 3 * self.m5) }
        #expect(slot(gd) == FactorInForce(kgPerKWh: 0.52, basis: .realtime))
        #expect(slot(yn).basis == .mix && slot(yn).kgPerKWh == b.slotFactor(region: yn, start: s, end: s + 3 * m5).kgPerKWh)
        #expect(slot(bj) == FactorInForce(kgPerKWh: AnnualFactorTable.embedded.factor(region: bj, year: 2026).value, basis: .annual))
        #expect(slot(xz).basis == .national && slot(xz).kgPerKWh == AnnualFactorTable.embedded.factor(region: Region.national, year: 2026).value)
        #expect(b.inForce(region: Region.national, start: s, end: s + hour).basis == .annual)
    }

    @Test func theRuleOverMostOfTheIntervalWins() {
        let b = book()
        // 20 minutes real-time, 40 annual: annual; the value is the time-weighted mean.
        let h = b.inForce(region: gd, start: s, end: s + hour)
        #expect(h.basis == .annual)
        #expect(h.kgPerKWh == b.slotFactor(region: gd, start: s, end: s + hour).kgPerKWh)
        // 10:10-10:25: 10 minutes real-time, 5 annual.
        #expect(b.inForce(region: gd, start: s + 2 * m5, end: s + 5 * m5).basis == .realtime)
    }

    @Test func mixRecordsOutliveTheirSlotsByADay() {
        var b = book()
        b.prune(closedBefore: s + 2 * hour)
        #expect(b.inForce(region: yn, start: s, end: s + hour).basis == .mix)
        b.prune(closedBefore: s + hour + Time.microsPerDay - 1)
        #expect(b.inForce(region: yn, start: s, end: s + hour).basis == .mix)
        b.prune(closedBefore: s + hour + Time.microsPerDay)
        #expect(b.inForce(region: yn, start: s, end: s + hour).basis == .annual)
        #expect(b.snapshot(region: yn).mixes.isEmpty)
    }
}
