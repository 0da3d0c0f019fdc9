/// Energy in tonnes of standard coal equivalent (tce, reference §9.2).
///
/// - **Equivalent value** (当量值, GB/T 2589-2020): 1 kWh = 0.1229 kgce, the heat content of the
///   electricity itself: `tce = kWh * 0.1229 / 1000`. The default.
/// - **Equal value** (等价值): the coal burnt to supply that kWh, the year's national average coal
///   consumption per kWh of power supplied (gce/kWh): `tce = kWh * gce_per_kwh / 1e6`. The
///   coefficients are a table by year (``TCECoefficients``), embedded from
///   `data/tce_coefficients.csv` or replaced by the `tce_coefficients` configuration key.
public enum TCE {
    /// kgce per kWh, equivalent value (GB/T 2589-2020).
    public static let equivalentKgcePerKWh = 0.1229

    /// Tonnes of standard coal equivalent of `kwh`, equivalent value.
    @inlinable
    public static func equivalent(kwh: Double) -> Double { kwh * equivalentKgcePerKWh / 1000 }

    /// Tonnes of standard coal equivalent of `kwh` consumed in `year`, equal value, from `table`
    /// (the year's coefficient, or else the latest earlier year's, or else the earliest one's: the
    /// year rule of the factor table, reference §3.3).
    public static func equalValue(kwh: Double, year: Int, table: TCECoefficients = .embedded) -> Double {
        kwh * table.coefficient(year: year).gcePerKWh / 1_000_000
    }
}

/// Per-year coal consumption per kWh of power supplied, gce/kWh (`year,gce_per_kwh,source`).
public struct TCECoefficients: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var year: Int
        public var gcePerKWh: Double
        public var source: String
    }

    /// Rows sorted by year.
    public let rows: [Row]
    /// Where the table came from: a path, or `embedded`.
    public let origin: String

    /// Parses `year,gce_per_kwh,source` (a header, then one row per year; `source` may hold commas).
    /// - Throws: ``TableError`` naming the first wrong line.
    public init(csv text: String, origin: String) throws(TableError) {
        var rows: [Row] = []
        var headerSeen = false
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty || line.hasPrefix("#") { continue }
            if !headerSeen {
                guard line.hasPrefix("year,gce_per_kwh") else {
                    throw TableError(.badHeader, file: origin, line: lineNo, message: "expected the header year,gce_per_kwh,source")
                }
                headerSeen = true
                continue
            }
            let f = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count >= 2, let year = Int(f[0]), (1900...2200).contains(year) else {
                throw TableError(file: origin, line: lineNo, message: "expected year,gce_per_kwh,source with a year such as 2022")
            }
            guard let v = Double(f[1]), v.isFinite, v > 0, v < 1000 else {
                throw TableError(file: origin, line: lineNo, message: "gce_per_kwh '\(f[1])' must be a number of grams above 0 and below 1000")
            }
            if rows.contains(where: { $0.year == year }) {
                throw TableError(.duplicate, file: origin, line: lineNo, message: "a second coefficient for \(year)")
            }
            rows.append(Row(year: year, gcePerKWh: v, source: f.count > 2 ? String(f[2]) : ""))
        }
        guard !rows.isEmpty else { throw TableError(.incomplete, file: origin, line: lineNo, message: "no coefficient rows") }
        self.rows = rows.sorted { $0.year < $1.year }
        self.origin = origin
    }

    /// The coefficient for `year`: its own, else the latest earlier year's, else the earliest one's.
    public func coefficient(year: Int) -> (gcePerKWh: Double, year: Int) {
        let r = rows.last { $0.year <= year } ?? rows[0]
        return (r.gcePerKWh, r.year)
    }

    /// The table built from `data/tce_coefficients.csv`.
    public static let embedded: TCECoefficients = {
        do { return try TCECoefficients(csv: EmbeddedData.tceCoefficientsCSV, origin: "embedded") } catch {
            preconditionFailure("embedded tce coefficients: \(error)")
        }
    }()
}
