import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// The forecast's trailing sums are kept slot by slot in whole milligrams: whatever the slots,
/// gaps and lookbacks, they equal the sums recomputed from the ring (what a restore does), and the
/// exact sums of the slot values to within half a milligram a slot.
@Suite struct TrailingSumTests {
    @Test(arguments: [1, 7, 42])
    func keptSumsEqualRecomputedOnesThroughGaps(seed: UInt64) throws {
        var short = AlertRule(name: "forecast-1h", kind: .forecast)
        short.lookback = Time.microsPerHour
        var long = AlertRule(name: "forecast-3h", kind: .forecast)
        long.lookback = 3 * Time.microsPerHour
        let h = AlertTests.harness([short, long], budgets: [Budget(level: .enterprise, key: "E1", period: .day, kg: 1e9),
                                                           Budget(level: .enterprise, key: "E2", period: .day, kg: 1e9)])
        let a = try #require(h.engine.alerts)
        #expect(a.lookbacks == [4, 12] && a.ringSize == 12 && a.targets.count == 2)
        var mix = SplitMix(seed: seed)
        var history: [Int64: [Double]] = [:]   // slot → value per target
        var s: Int64 = 1_000
        for step in 0..<400 {
            // Mostly the next slot; now and then a gap, sometimes longer than the ring.
            let r = mix.next() % 20
            let skip: Int64 = r == 0 ? Int64(mix.next() % 30) : r == 1 ? 1 : 0
            s += skip
            a.fillGap(before: s)
            let values = (0..<2).map { _ in mix.unit() * 1_000 * (mix.next() % 4 == 0 ? 0 : 1) }
            a.push(slot: s, values: values)
            history[s] = values
            let kept = a.trailing
            a.recomputeTrailing()
            #expect(a.trailing == kept, "step \(step)")
            for (j, n) in a.lookbacks.enumerated() {
                for t in 0..<2 {
                    let exact = (0..<Int64(n)).reduce(0.0) { $0 + (history[s - $1]?[t] ?? 0) }
                    #expect(abs(a.trailingSum(target: t, lookback: j) - exact) <= Double(n) * 0.5e-6 + 1e-9, "step \(step) t \(t) n \(n)")
                }
            }
            s += 1
        }
    }
}

extension SplitMix {
    /// A uniform double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
