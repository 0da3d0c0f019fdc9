import Testing
@testable import GridCarbonModel

/// Tonnes of standard coal equivalent (reference §9.2).
@Suite struct TCETests {
    @Test func equivalentValueIsGBT2589() {
        // 1 MWh = 0.1229 tce; the key-energy-using-unit threshold of 10,000 tce is 81,366,965 kWh.
        #expect(approx(TCE.equivalent(kwh: 1000), 0.1229))
        #expect(approx(TCE.equivalent(kwh: 10_000 * 1000 / 0.1229), 10_000))
        #expect(TCE.equivalent(kwh: 0) == 0)
    }

    @Test func equalValueUsesTheYearRule() throws {
        let t = try TCECoefficients(csv: "year,gce_per_kwh,source\n2021,302.5,a\n2022,300.7,b, with a comma\n", origin: "t")
        #expect(t.rows.map(\.year) == [2021, 2022] && t.rows[1].source == "b, with a comma")
        // 1 GWh in 2022 at 300.7 gce/kWh is 300.7 tce.
        #expect(approx(TCE.equalValue(kwh: 1_000_000, year: 2022, table: t), 300.7))
        #expect(t.coefficient(year: 2030) == (300.7, 2022))   // later years: the latest earlier
        #expect(t.coefficient(year: 2019) == (302.5, 2021))   // earlier years: the earliest
        #expect(t.coefficient(year: 2021) == (302.5, 2021))
    }

    @Test func embeddedTableCoversTheFactorYearsWithSources() {
        let t = TCECoefficients.embedded
        #expect(t.rows.allSatisfy { !$0.source.isEmpty && $0.gcePerKWh > 250 && $0.gcePerKWh < 350 })
        for year in [2021, 2022] { #expect(t.coefficient(year: year).year == year) }
        #expect(t.coefficient(year: 2022).gcePerKWh == 300.7)
    }

    @Test(arguments: [
        ("", TableError.Code.incomplete),
        ("year,gce_per_kwh,source\n", .incomplete),
        ("yr,gce\n2021,300\n", .badHeader),
        ("year,gce_per_kwh,source\n21x,300,a\n", .badRow),
        ("year,gce_per_kwh,source\n2021,-3,a\n", .badRow),
        ("year,gce_per_kwh,source\n2021,1200,a\n", .badRow),
        ("year,gce_per_kwh,source\n2021,300,a\n2021,301,b\n", .duplicate),
    ])
    func badTablesAreRefused(_ text: String, _ code: TableError.Code) {
        do { _ = try TCECoefficients(csv: text, origin: "t"); Issue.record("accepted \(text.debugDescription)") } catch {
            #expect(error.code == code, "\(text.debugDescription): \(error)")
        }
    }
}
