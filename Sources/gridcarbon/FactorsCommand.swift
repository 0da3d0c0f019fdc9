import ArgumentParser
import GridCarbonIO
import GridCarbonModel

struct FactorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "factors",
        abstract: "Print the emission factor tables in force.",
        discussion: """
        Shows the annual average grid factors per province and year (rules 3-4 of the factor \
        resolution: a slot uses its own year, or the latest earlier one; a province without a \
        published factor, such as Tibet, uses the national one) and the per-source factors used for \
        factors derived from generation mix. Without options these are the tables built into gridcarbon, \
        the MEE/NBS published factors; --factors and --source-factors show a replacement file instead.

        Examples:
          gridcarbon factors
          gridcarbon factors --sources
          gridcarbon factors --csv > cn_grid_factors.csv
        """
    )

    @OptionGroup(title: "Tables")
    var engine: SettingsOptions

    @Flag(help: "Print each row's source (publication and how the value was checked).")
    var sources = false

    @Flag(help: "Print the annual table as CSV, exactly as embedded or loaded.")
    var csv = false

    func run() async throws {
        var engine = self.engine
        try engine.load()
        let (annual, src) = try engine.tables()
        if csv {
            print("year,region,name_en,name_zh,factor_kg_per_kwh,kind,source")
            for r in annual.rows {
                print("\(r.year),\(Region.codes[r.region]),\(r.nameEn),\(r.nameZh),\(NumberFormat.string(r.kgPerKWh)),\(r.kind),\(r.source)")
            }
            return
        }
        let averages = annual.rows.filter { $0.kind == "average" }
        let years = Array(Set(averages.map(\.year))).sorted()
        print("Annual average grid emission factors, kg CO2/kWh (\(annual.origin == "embedded" ? "embedded: MEE/NBS published factors" : annual.origin))")
        print(pad("region", 7) + pad("name", 16) + years.map { pad(String($0), 9) }.joined() + "used for \(years.last.map { String($0 + 1) } ?? "")+")
        for r in 0..<Region.count {
            let name = averages.first { $0.region == r }?.nameEn ?? (r == 26 ? "Tibet" : "")
            var line = pad(Region.codes[r], 7) + pad(name, 16)
            for y in years {
                let v = averages.first { $0.region == r && $0.year == y }
                line += pad(v.map { NumberFormat.string($0.kgPerKWh) } ?? "-", 9)
            }
            let f = annual.factor(region: r, year: Int.max / 2)
            line += NumberFormat.string(f.value) + (f.region != r ? " (national: no provincial factor published)" : "")
            print(line)
        }
        let others = annual.rows.filter { $0.kind != "average" }
        if !others.isEmpty {
            print("\nOther national factors:")
            for o in others { print("  \(o.year) \(pad(o.kind, 30)) \(NumberFormat.string(o.kgPerKWh))") }
        }
        print("\nPer-source factors for generation mix (\(src.basis), \(src.origin)), kg CO2/kWh:")
        for s in Source.allCases {
            print("  " + pad(s.name, 9) + pad(NumberFormat.string(src.values[s.rawValue]), 7) + (sources ? src.references[s.rawValue] : ""))
        }
        if sources {
            print("\nSources of the annual factors:")
            var seen = Set<String>()
            for r in annual.rows where seen.insert("\(r.year) \(r.kind) \(r.source)").inserted {
                print("  \(r.year) \(Region.codes[r.region]) \(r.kind): \(r.source)")
            }
        } else {
            print("\n(--sources lists where every value comes from; 2021 provincial values are marked UNVERIFIED in the data.)")
        }
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
