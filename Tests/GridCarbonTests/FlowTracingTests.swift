import Foundation
import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel
import GridCarbonTestKit

/// Flow-traced consumption factors (reference §9.3) as rule 2 of §3.3.
@Suite struct FlowTracingTests {
    static let s = "2026-11-18T10:00:00+08:00", e = "2026-11-18T11:00:00+08:00"
    static let sc = Region.index(of: "CN-SC")!, cq = Region.index(of: "CN-CQ")!, hb = Region.index(of: "CN-HB")!
    static let gz = Region.index(of: "CN-GZ")!, gd = Region.index(of: "CN-GD")!

    /// Sichuan (coal 100, hydro 900 MWh), Chongqing (coal 500), Hubei (gas 300), one hour; Sichuan
    /// exports 200 to Chongqing and 100 to Hubei, Chongqing 100 to Hubei, and Guizhou (no generation
    /// records) 50 to Hubei. By hand, with coal 0.76 and gas 0.37 kg/kWh (direct):
    /// - c_SC × 1000 = 76                                   → c_SC = 0.076
    /// - c_CQ × (500 + 200) = 380 + 200 × 0.076 = 395.2     → c_CQ = 0.564571428571…
    /// - c_HB × (300 + 100 + 100 + 50) = 111 + 100 × 0.076 + 100 × c_CQ + 50 × f_GZ
    static let lines = [
        "m,CN-SC,\(s),\(e),coal,100", "m,CN-SC,\(s),\(e),hydro,900",
        "m,CN-CQ,\(s),\(e),coal,500",
        "m,CN-HB,\(s),\(e),gas,300",
        "x,CN-SC,CN-CQ,\(s),\(e),200", "x,CN-SC,CN-HB,\(s),\(e),100",
        "x,CN-CQ,CN-HB,\(s),\(e),100", "x,CN-GZ,CN-HB,\(s),\(e),50",
        "x,CN-HB,CN-GD,\(s),\(e),70",   // into a province without generation records: not in the system
    ]

    /// A factor-table reload (SIGHUP) is seen by the next solve, even for an instant solved (and
    /// cached) before it: otherwise a live run and its replay would write different bytes.
    @Test func aTableReloadIsSeenByTheNextSolve() throws {
        let h = Harness().feed(Self.lines, finish: false)
        let t = Harness.t(Self.s)
        let before = h.engine.factors.flowTracedFactors(at: t)
        let lifecycle = try SourceFactorTable(csv: EmbeddedData.sourceFactorsCSV, basis: "lifecycle", origin: "embedded")
        h.engine.replaceTables(annual: h.engine.factors.annual, sources: lifecycle)
        let after = h.engine.factors.flowTracedFactors(at: t)
        #expect(after == h.engine.factors.solveFlow(at: t))
        #expect(after[Self.sc] != before[Self.sc])
    }

    @Test func handSolvedThreeProvinces() {
        let h = Harness().feed(Self.lines, finish: false)
        let t = Harness.t(Self.s)
        let fGZ = AnnualFactorTable.embedded.factor(region: Self.gz, year: 2026).value
        let cSC = 0.076, cCQ = 395.2 / 700
        let cHB = (111 + 7.6 + 100 * cCQ + 50 * fGZ) / 550
        let got = h.engine.factors.flowTracedFactors(at: t)
        #expect(Set(got.keys) == [Self.sc, Self.cq, Self.hb])
        #expect(approx(got[Self.sc]!, cSC) && approx(got[Self.cq]!, cCQ) && approx(got[Self.hb]!, cHB), "\(got)")
        #expect(h.engine.factors.instantFactor(region: Self.hb, at: t).rule == .flowTraced)
        #expect(h.engine.factors.instantFactor(region: Self.gd, at: t).rule == .annual)
        #expect(h.engine.factors.instantFactor(region: Region.index(of: "CN-XZ")!, at: t).rule == .national)
        // As rule 2 of the slot factor: a 15-minute slot inside the hour has Hubei's traced factor.
        let slot = h.engine.factors.slotFactor(region: Self.hb, start: t, end: t + 15 * Time.microsPerMinute)
        #expect(approx(slot.kgPerKWh, cHB) && slot.realtimeShare == 1)
        // What `GET /v1/factors?at=` and the dashboard show: the same factor, basis flow_traced.
        let shown = h.engine.factors.inForce(region: Self.hb, start: t, end: t + Time.microsPerHour)
        #expect(approx(shown.kgPerKWh, cHB) && shown.basis == .flowTraced && shown.basis.name == "flow_traced")
        #expect(h.engine.factors.inForce(region: Self.gd, start: t, end: t + Time.microsPerHour).basis == .annual)
        // Without the exchanges the same slot has Hubei's own mix (gas only).
        let plain = Harness().feed(Array(Self.lines.prefix(4)), finish: false)
        #expect(plain.engine.factors.slotFactor(region: Self.hb, start: t, end: t + 15 * Time.microsPerMinute).kgPerKWh == 0.37)
        #expect(plain.engine.factors.instantFactor(region: Self.hb, at: t).rule == .mix)
    }

    /// A real-time factor still wins (rule 1); an exchange covering half the slot makes it a
    /// time-weighted mean of the traced and the plain mix factor.
    @Test func realtimeWinsAndPartialExchangesWeighByTime() {
        let t = Harness.t(Self.s)
        let h = Harness().feed(Self.lines + ["f,CN-CQ,\(Self.s),\(Self.e),0.5"], finish: false)
        #expect(h.engine.factors.instantFactor(region: Self.cq, at: t) == (0.5, .realtime))
        let half = Harness().feed(["m,CN-SC,\(Self.s),\(Self.e),hydro,1000", "m,CN-CQ,\(Self.s),\(Self.e),coal,500",
                                   "x,CN-SC,CN-CQ,2026-11-18T10:07:30+08:00,2026-11-18T10:15:00+08:00,250"], finish: false)
        // During the exchange: 500 × 0.76 / (500 + 2000 MW imported at 0) = 0.152; before it 0.76.
        let f = half.engine.factors.slotFactor(region: Self.cq, start: t, end: t + 15 * Time.microsPerMinute)
        #expect(approx(f.kgPerKWh, (0.76 + 0.152) / 2))
    }

    /// The emissions of a closed slot use the traced factor.
    @Test func closedSlotsUseTheTracedFactor() {
        let reg = "meter_id,region,city,park,enterprise,industry,max_kw\nH1,CN-HB,WH,,,C,\n"
        let h = Harness(registry: reg).feed(Self.lines + ["i,H1,\(Self.s),2026-11-18T10:15:00+08:00,100"])
        let fGZ = AnnualFactorTable.embedded.factor(region: Self.gz, year: 2026).value
        let cHB = (111 + 7.6 + 100 * (395.2 / 700) + 50 * fGZ) / 550
        guard let row = h.row("15m", Self.s, .province, "CN-HB") else { Issue.record("no row"); return }
        #expect(abs(row.co2 - 100 * cHB) < 1e-6, "\(row.co2) vs \(100 * cHB)")
    }

    /// Random cases against numpy (scripts/flow_check.py) through `gridcarbon factors --at`.
    @Test func randomCasesAgreeWithNumpy() throws {
        let binary = try TestRepository.requireBinary()
        let script = try TestRepository.require(TestRepository.root + "/scripts/flow_check.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, "--bin", binary, "--cases", "30", "--seed", "2026"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("30 cases, 0 differences"), "\(text)")
    }
}
