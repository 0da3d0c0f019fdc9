import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// §3.4 conservation across partitions (§8): with late stragglers, silent meters (long spans whose
/// start falls in slots a partition closed) and disorder inside the reorder window, the merged
/// `national` energy plus the `late_span` energy the workers wrote equals the energy of every span
/// of the records that were not late, for every window length. Each partition keeps its own
/// watermark, so which records are late is decided per partition; the sum still balances.
@Suite struct PartitionConservationTests {
    @Test(arguments: [2, 3] as [Int])
    func nationalPlusLateSpansEqualsAllSpans(parts: Int) throws {
        var rng = SplitMix(seed: 41 &+ UInt64(parts))
        let meters = 12
        var reg = "meter_id,region,city,park,enterprise,industry,max_kw\n"
        for m in 0..<meters { reg += "M\(m),\(["CN-GD", "CN-JS", "CN-YN"][m % 3]),,,E\(m % 4),C,\n" }
        let registry = try Registry(csv: Array(reg.utf8), origin: "test", meterLevel: false)
        let part = { (id: Substring) in PartitionMergeTests.fnv(id, parts) }
        let owners = (0..<meters).map { part(Substring("M\($0)")) }
        #expect(Set(owners).count == parts, "every partition has meters")

        let f = TimeFormatter(zone: .shanghai)
        let base = Harness.t("2026-11-18T00:00:00+08:00")
        var timed: [(Micros, String)] = []
        var value = [Double](repeating: 0, count: meters)
        var seen = [Bool](repeating: false, count: meters)
        var spansEnergy = 0.0
        var stragglers = 0
        for step in 0..<240 {
            let t = base + Int64(step) * 5 * Time.microsPerMinute
            for m in 0..<meters {
                if m % 5 == 1 && step >= 60 && step < 90 { continue }          // silent for 2.5 hours
                let arrival = t + Int64(rng.next() % 600) * Time.microsPerSecond   // inside the reorder window
                if step > 40 && rng.next() % 40 == 0 {                           // a straggler 3 hours late
                    timed.append((arrival, "r,M\(m),\(f.string(t - 3 * Time.microsPerHour)),1"))
                    stragglers += 1
                    continue
                }
                let e = Double(rng.next() % 1000) / 100
                value[m] += e
                timed.append((arrival, "r,M\(m),\(f.string(t)),\(value[m])"))
                if seen[m] { spansEnergy += e }
                seen[m] = true
            }
        }
        let lines = timed.sorted { $0.0 < $1.0 }.map(\.1)
        #expect(stragglers > 0)

        let sinks = (0..<parts).map { _ in CollectingSink() }
        let engines = (0..<parts).map { PartitionMergeTests.engine(registry, role: .partition(index: $0, of: parts), sink: sinks[$0]) }
        let mergedSink = CollectingSink()
        let merger = PartitionMergeTests.engine(registry, role: .merge(partitions: parts), sink: mergedSink)
        for (i, l) in lines.enumerated() {
            let p = part(PartitionMergeTests.meter(l))
            PartitionMergeTests.feed(engines[p], l)
            if let b = engines[p].takePartialBatch(streamSeq: UInt64(i + 1)) {
                try PartitionMergeTests.deliver(.batch(b.encoded()), to: merger)
            }
        }
        for p in 0..<parts {
            engines[p].finish()
            if let b = engines[p].takePartialBatch(streamSeq: UInt64(lines.count + 1 + p)) {
                try PartitionMergeTests.deliver(.batch(b.encoded()), to: merger)
            }
        }
        merger.mergeGridThrough(UInt64(lines.count + parts))

        let late = engines.reduce(0) { $0 + $1.counts.late }
        #expect(late >= stragglers, "every straggler is late in its partition")
        let lateSpan = sinks.reduce(0.0) { $0 + $1.lateSpans.reduce(0) { $0 + $1.kwh } }
        #expect(lateSpan > 0, "the silences leave late spans")
        #expect(!mergedSink.windows.isEmpty)
        for len in ["15m", "1h", "1d"] {
            let national = mergedSink.rows(length: DurationFormat.parse(len)!, registry: registry)
                .filter { $0.1 == .national }.reduce(0) { $0 + $1.3.energy }
            #expect(approx(national + lateSpan, spansEnergy, rel: 1e-9), "\(len): national \(national) + late spans \(lateSpan) vs spans \(spansEnergy)")
        }
    }
}
