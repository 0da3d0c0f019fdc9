/// One published annual factor.
public struct AnnualFactor: Sendable, Equatable {
    public var year: Int
    public var region: Int
    public var nameEn: String
    public var nameZh: String
    public var kgPerKWh: Double
    public var kind: String
    public var source: String
}

/// The published annual average factors (§3.3 rules 3 and 4): per region and year, with the
/// year fallback to the latest earlier year and the region fallback to the national factor.
public struct AnnualFactorTable: Sendable {
    /// Every row of the table (all kinds), as read, for `gridcarbon factors`.
    public private(set) var rows: [AnnualFactor]
    /// Per region, `kind=average` factors sorted by year.
    private var byRegion: [[(year: Int, value: Double)]]
    /// Where the table came from (`embedded` or a path).
    public var origin: String

    /// Reads the CSV layout of `cn_grid_factors.csv`:
    /// `year,region,name_en,name_zh,factor_kg_per_kwh,kind,source`.
    public init(csv text: String, origin: String) throws(TableError) {
        self.origin = origin
        rows = []
        byRegion = Array(repeating: [], count: Region.count)
        var lineNo = 0
        var sawHeader = false
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNo += 1
            var line = raw
            if line.last == "\r" { line = line.dropLast() }
            if line.isEmpty { continue }
            if !sawHeader {
                guard line.hasPrefix("year,region,") else {
                    throw TableError(.badHeader, file: origin, line: lineNo, message: "expected the header year,region,name_en,name_zh,factor_kg_per_kwh,kind,source")
                }
                sawHeader = true
                continue
            }
            let f = line.split(separator: ",", maxSplits: 6, omittingEmptySubsequences: false)
            guard f.count >= 6 else { throw TableError(file: origin, line: lineNo, message: "expected 7 columns, found \(f.count)") }
            guard let year = Int(f[0]), (1900...2200).contains(year) else { throw TableError(file: origin, line: lineNo, message: "bad year '\(f[0])'") }
            guard let region = Region.index(of: String(f[1])) else { throw TableError(file: origin, line: lineNo, message: "unknown region '\(f[1])'") }
            guard let v = Double(f[4]), v.isFinite, v >= 0, v < 10 else { throw TableError(file: origin, line: lineNo, message: "bad factor '\(f[4])' (kg CO2/kWh between 0 and 10)") }
            let kind = String(f[5])
            rows.append(AnnualFactor(year: year, region: region, nameEn: String(f[2]), nameZh: String(f[3]), kgPerKWh: v, kind: kind, source: f.count > 6 ? String(f[6]) : ""))
            if kind == "average" {
                if byRegion[region].contains(where: { $0.year == year }) {
                    throw TableError(.duplicate, file: origin, line: lineNo, message: "second average factor for \(f[1]) \(year)")
                }
                byRegion[region].append((year, v))
            }
        }
        guard sawHeader else { throw TableError(.incomplete, file: origin, line: 1, message: "empty factor table") }
        for r in byRegion.indices { byRegion[r].sort { $0.year < $1.year } }
        guard !byRegion[Region.national].isEmpty else {
            throw TableError(.incomplete, file: origin, line: lineNo, message: "no national (CN) average factor: every region needs it as the fallback")
        }
    }

    /// The table built into the binary (MEE/NBS factors, data years 2021–2023).
    public static let embedded: AnnualFactorTable = {
        do { return try AnnualFactorTable(csv: EmbeddedData.gridFactorsCSV, origin: "embedded") } catch {
            fatalError("embedded factor table is invalid: \(error)")
        }
    }()

    /// The factor for a region's own table by the year rule: the year, or else the latest earlier year.
    public func own(region: Int, year: Int) -> (value: Double, year: Int)? {
        var best: (Double, Int)?
        for e in byRegion[region] where e.year <= year { best = (e.value, e.year) }
        return best
    }

    /// Rules 3 and 4: the region's annual factor by the year rule, else the national one.
    /// Before the first published year no earlier year exists: the earliest published year is used
    /// (the region's own, else the national one), the closest the table comes.
    public func factor(region: Int, year: Int) -> (value: Double, region: Int, year: Int) {
        if let r = own(region: region, year: year) { return (r.value, region, r.year) }
        if let n = own(region: Region.national, year: year) { return (n.value, Region.national, n.year) }
        if let first = byRegion[region].first { return (first.value, region, first.year) }
        let first = byRegion[Region.national][0]
        return (first.value, Region.national, first.year)
    }
}

/// Per-source factors for mix-derived factors (§3.3 rule 2).
public struct SourceFactorTable: Sendable {
    /// Factor per ``Source`` raw value.
    public private(set) var values: [Double]
    public var basis: String
    public var references: [String]
    public var origin: String

    /// Reads `source,kg_per_kwh,basis,reference`, keeping the rows of one basis.
    public init(csv text: String, basis: String = "direct", origin: String) throws(TableError) {
        self.basis = basis
        self.origin = origin
        values = Array(repeating: .nan, count: Source.allCases.count)
        references = Array(repeating: "", count: Source.allCases.count)
        var lineNo = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNo += 1
            var line = raw
            if line.last == "\r" { line = line.dropLast() }
            if line.isEmpty || lineNo == 1 { continue }
            let f = line.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
            guard f.count >= 3 else { throw TableError(file: origin, line: lineNo, message: "expected source,kg_per_kwh,basis,reference") }
            guard let s = Source(name: String(f[0])) else { throw TableError(file: origin, line: lineNo, message: "unknown source '\(f[0])'") }
            guard let v = Double(f[1]), v.isFinite, v >= 0 else { throw TableError(file: origin, line: lineNo, message: "bad factor '\(f[1])'") }
            if f[2] == basis {
                values[s.rawValue] = v
                references[s.rawValue] = f.count > 3 ? String(f[3]) : ""
            }
        }
        if let missing = Source.allCases.first(where: { values[$0.rawValue].isNaN }) {
            throw TableError(.incomplete, file: origin, line: lineNo, message: "no \(basis) factor for source '\(missing.name)'")
        }
    }

    public static let embedded: SourceFactorTable = {
        do { return try SourceFactorTable(csv: EmbeddedData.sourceFactorsCSV, origin: "embedded") } catch {
            fatalError("embedded source factor table is invalid: \(error)")
        }
    }()
}
