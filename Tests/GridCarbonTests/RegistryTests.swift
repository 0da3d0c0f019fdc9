import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonModel

@Suite struct RegistryTests {
    let header = "meter_id,region,city,park,enterprise,industry,max_kw\n"

    @Test func loadsAndLooksUp() throws {
        let r = try Registry(csv: header + "M1,CN-GD,SZ,P,E,C26,100\nM2,CN-BJ,,,,,\r\n", origin: "r.csv")
        #expect(r.count == 2)
        #expect(r.lookup("M1") == 0 && r.lookup("M2") == 1 && r.lookup("M3") == nil)
        #expect(r.maxKW(of: 0) == 100 && r.maxKW(of: 1) == .infinity)
        #expect(r.profiles.count == 2)
        #expect(r.keyNames[Level.industry.rawValue] == ["C26"])
        #expect(r.profiles[1].city == -1)
    }

    @Test func manyMetersHashWell() throws {
        var csv = header
        for i in 0..<50_000 { csv += "meter-\(i),CN-JS,,,E\(i % 100),,\n" }
        let r = try Registry(csv: csv, origin: "big")
        for i in stride(from: 0, to: 50_000, by: 7) { #expect(r.lookup("meter-\(i)") == i) }
        #expect(r.profiles.count == 100)
    }

    @Test(arguments: [
        ("M1,CN-GD,,,,,\n", 0, "expected the header"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD\n", 2, "expected 7 fields"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD,,,,,\nM 2,CN-GD,,,,,\n", 3, "meter_id 'M 2'"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN,,,,,\n", 2, "region 'CN'"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD,,,,Z9,\n", 2, "industry 'Z9'"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD,,,,,-5\n", 2, "max_kw '-5'"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD,,,,,\n\nM1,CN-GD,,,,,\n", 4, "listed twice"),
        ("meter_id,region,city,park,enterprise,industry,max_kw\nM1,CN-GD,a b,,,,\n", 2, "city 'a b'"),
        ("", 1, "empty registry"),
    ])
    func namesTheWrongLine(_ text: String, _ line: Int, _ message: String) {
        do {
            _ = try Registry(csv: text, origin: "reg.csv")
            Issue.record("accepted a bad registry")
        } catch {
            #expect(error.line == max(line, 1))
            #expect(error.message.contains(message), "\(error)")
            #expect(error.description.hasPrefix("reg.csv:"))
        }
    }

    @Test func industryCodes() {
        for ok in ["C", "C26", "2611", "A01", "T"] { #expect(Identifier.isIndustryCode(ok), "\(ok)") }
        for bad in ["Z", "C1", "C12345", "cc", "", "1"] { #expect(!Identifier.isIndustryCode(bad), "\(bad)") }
    }
}

@Suite struct EmbeddedDataTests {
    @Test func embeddedTablesEqualTheRepositoryData() throws {
        for (name, embedded) in [("cn_grid_factors.csv", EmbeddedData.gridFactorsCSV), ("source_factors.csv", EmbeddedData.sourceFactorsCSV),
                                 ("tce_coefficients.csv", EmbeddedData.tceCoefficientsCSV)] {
            let shipped = String(decoding: try Files.read(TestRepository.require(TestRepository.data + "/" + name)), as: UTF8.self)
            let normalise = { (s: String) in s.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init) }
            let a = normalise(shipped), b = normalise(embedded)
            #expect(a.count == b.count, "\(name): run scripts/embed-data.sh")
            let firstDifference = a.indices.first { $0 < b.count && a[$0] != b[$0] }
            #expect(firstDifference == nil, "\(name) differs at line \((firstDifference ?? 0) + 1): run scripts/embed-data.sh")
        }
    }

    @Test func embeddedTableKeepsItsSources() {
        let t = AnnualFactorTable.embedded
        #expect(t.rows.count == 99)
        #expect(t.rows.allSatisfy { !$0.source.isEmpty })
        #expect(t.rows.filter { $0.kind == "average" && $0.year == 2023 }.count == 31)
        #expect(SourceFactorTable.embedded.values[Source.coal.rawValue] == 0.76)
        let lifecycle = try? SourceFactorTable(csv: EmbeddedData.sourceFactorsCSV, basis: "lifecycle", origin: "embedded")
        #expect(lifecycle?.values[Source.solar.rawValue] == 0.045)
    }

    @Test func crlfTablesLoad() throws {
        let crlf = EmbeddedData.gridFactorsCSV.split(separator: "\n").joined(separator: "\r\n") + "\r\n"
        let t = try AnnualFactorTable(csv: crlf, origin: "crlf.csv")
        #expect(t.rows.count == AnnualFactorTable.embedded.rows.count)
    }

    @Test func badFactorTablesSayWhichLine() {
        #expect(throws: TableError.self) { try AnnualFactorTable(csv: "year,region,name_en,name_zh,factor_kg_per_kwh,kind,source\n2023,CN-GD,x,y,abc,average,s\n", origin: "f.csv") }
        do {
            _ = try AnnualFactorTable(csv: "year,region,name_en,name_zh,factor_kg_per_kwh,kind,source\n2023,CN-GD,x,y,0.5,average,s\n", origin: "f.csv")
            Issue.record("a table without CN was accepted")
        } catch {
            #expect(error.message.contains("national"))
        }
    }
}
