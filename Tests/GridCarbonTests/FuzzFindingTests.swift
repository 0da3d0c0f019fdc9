import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// Inputs the libFuzzer targets (docs/fuzzing.md) found, each kept as the case that failed.
@Suite struct FuzzFindingTests {
    /// Energies of 10^15 or more are `bad_number` (reference §2.2): 1e30 kWh used to reach the exact
    /// sums and overflow their `Int128` (a trap that stopped the daemon).
    @Test(arguments: [
        "r,A,2026-11-18T10:15:00+08:00,1e30",
        "r,A,2026-11-18T10:15:00+08:00,1000000000000000",
        "i,T,2026-11-18T10:00:00+08:00,2026-11-18T10:30:00+08:00,1e300",
        "m,CN-YN,2026-11-18T10:00:00+08:00,2026-11-18T12:00:00+08:00,hydro,2e15",
        #"{"kind":"r","meter":"A","ts":"2026-11-18T10:15:00+08:00","kwh":1e30}"#,
    ])
    func hugeEnergyIsBadNumber(_ line: String) {
        let registry = try! Registry(csv: Harness.defaultRegistry, origin: "t")
        var rec = ParsedRecord()
        let outcome = Array(line.utf8).withUnsafeBytes { LineParser(registry: registry).parse($0, into: &rec) }
        guard case .rejected(.badNumber) = outcome else {
            Issue.record("\(line): \(outcome), expected bad_number")
            return
        }
    }

    /// Just under the bound still counts, and a run with huge readings closes without a trap.
    @Test func hugeReadingsDoNotStopTheEngine() {
        let h = Harness().feed([
            "r,A,2026-11-18T10:00:00+08:00,0",
            "r,A,2026-11-18T10:15:00+08:00,999999999999999",
            "r,A,2026-11-18T10:30:00+08:00,1e30",
            "i,T,2026-11-18T10:00:00+08:00,2026-11-18T10:30:00+08:00,1e200",
        ])
        #expect(h.engine.counts.accepted == 2)
        #expect(h.engine.counts.rejected == 2)
        #expect(h.sink.rejected.map(\.0) == [.badNumber, .badNumber])
    }
}
