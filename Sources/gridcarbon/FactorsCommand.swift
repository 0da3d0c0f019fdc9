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
          gridcarbon factors --tce
          gridcarbon factors --at 2026-11-18T10:00:00+08:00 --records grid.csv
        """
    )

    @OptionGroup(title: "Tables")
    var engine: SettingsOptions

    @Flag(help: "Print each row's source (publication and how the value was checked).")
    var sources = false

    @Flag(help: "Print the annual table as CSV, exactly as embedded or loaded.")
    var csv = false

    @Flag(help: "Print the tce coefficients instead (reference §9.2): the equivalent value and the per-year equal-value table.")
    var tce = false

    @Option(name: .customLong("tce-coefficients"), help: ArgumentHelp("Per-year coal consumption per kWh supplied (tce_coefficients.csv layout) replacing the embedded table.", valueName: "file"))
    var tceCoefficients: String?

    @Option(help: ArgumentHelp("Print every province's factor at this instant (RFC 3339 or Unix seconds) and the rule that gave it, from the f, m and x records of --records (reference §3.3, §9.3).", valueName: "time"))
    var at: String?

    @Option(name: .customLong("records"), help: ArgumentHelp("Record lines (f, m, x; others are ignored) for --at. Repeatable.", valueName: "file"))
    var records: [String] = []

    @Option(name: .customLong("time-solve"), help: ArgumentHelp("With --at: time N uncached flow-traced solves and print the cost per solve on stderr.", visibility: .hidden))
    var timeSolve = 0

    func run() async throws {
        var engine = self.engine
        try engine.load()
        if tce {
            try printTCE(engine)
            return
        }
        if let at {
            try printAt(at, engine: engine)
            return
        }
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

    /// `--tce`: the coefficients of reference §9.2.
    func printTCE(_ engine: SettingsOptions) throws {
        var table = TCECoefficients.embedded
        if let path = engine.file.value(.tceCoefficients, flag: tceCoefficients) {
            let text = String(decoding: try Files.read(path), as: UTF8.self)
            do { table = try TCECoefficients(csv: text, origin: path) } catch { throw ConfigurationError(.badTable, message: "tce coefficients \(error)") }
        }
        if csv {
            print("year,gce_per_kwh,source")
            for r in table.rows { print("\(r.year),\(NumberFormat.string(r.gcePerKWh)),\(r.source)") }
            return
        }
        print("Energy in tonnes of standard coal equivalent (tce)")
        print("  equivalent value (default, GB/T 2589-2020): \(NumberFormat.string(TCE.equivalentKgcePerKWh)) kgce/kWh, tce = kWh * 0.1229 / 1000")
        print("  equal value, coal consumption per kWh of power supplied (\(table.origin == "embedded" ? "embedded" : table.origin)), gce/kWh:")
        for r in table.rows {
            print("    " + pad(String(r.year), 6) + pad(NumberFormat.string(r.gcePerKWh), 8) + (sources ? r.source : ""))
        }
        if let last = table.rows.last { print("  (a later year uses \(last.year)'s; an earlier one the earliest)") }
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
