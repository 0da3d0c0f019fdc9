// Figure 4 of the scale-out issue: the merger's cost for one window of 100,000 meters handed over by
// 4 partitions. Set up once (not measured): a registry of 100,000 meters, 4 partition engines each
// fed its meters' readings of one 15-minute slot (two register reads per meter, meters split by the
// stream's partition hash), the watermark moved past the slot, and each partition's batch taken
// and encoded as a worker sends it. Measured, per iteration, on a fresh merger engine: decoding the
// 4 batches, `mergePartial` of each, and, inside the last one, the merge step that closes the slot
// (factors applied) and the 15-minute window (its rows at every level). Rendering the window's CSV
// and writing the file are not included.
//
// Two registries: profiles as `serve` runs by default (meters grouped by region, city, park,
// enterprise and industry: about 4,000 profiles), and with the meter level on (every meter its own
// profile: 100,000 profiles in each batch's slot and window, the worst case for the batches' size).
import Benchmark
import GridCarbonEngine
import GridCarbonModel

/// Discards the merger's output, keeping the closed windows' row counts (checked once).
final class WindowCounter: EngineSink {
    var windows = 0
    var rows = 0
    /// The national row's meter count of the last window.
    var nationalMeters: Int32 = 0
    /// Lines rejected or late, late spans and anomalies: none in this fixture (checked).
    var lost = 0
    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) { lost += 1 }
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin) { lost += 1 }
    func lateSpan(_ span: LateSpan) { lost += 1 }
    func anomaly(_ anomaly: Anomaly) { lost += 1 }
    func windowClosed(_ window: ClosedWindow) {
        windows += 1
        rows += window.rows.count
        nationalMeters = window.rows.first { $0.level == .national }?.meters ?? 0
    }
}

enum MergeFixture {
    static let meters = 100_000
    static let partitions = 4
    /// 2026-11-18T00:00:00+08:00.
    static let t0: Micros = 1_794_931_200 * Time.microsPerSecond
    static let now: Micros = t0 + 30 * Time.microsPerDay

    static let industries = ["A", "C", "D", "E", "F", "G", "H", "I", "K", "L"]

    /// A fleet shaped like `gridcarbon simulate`'s: enterprises of 10–40 meters in 2–4 cities and up
    /// to 2 parks per city of each province, one industry per enterprise; ids `M000001`…
    static func registryCSV() -> [UInt8] {
        var out = Array("meter_id,region,city,park,enterprise,industry,max_kw\n".utf8)
        let provinces = Region.codes.filter { $0.count == 5 }
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return rng >> 33 }
        var m = 0, enterprise = 0
        while m < meters {
            enterprise += 1
            let size = min(meters - m, 10 + Int(next() % 31))
            let province = provinces[Int(next()) % provinces.count]
            let city = "\(province)-C\(next() % 3)"
            let park = next() % 2 == 0 ? "" : "\(city)-P\(next() % 2)"
            let industry = industries[Int(next()) % industries.count]
            for _ in 0..<size {
                m += 1
                out.append(contentsOf: "\(id(m - 1)),\(province),\(city),\(park),E\(enterprise),\(industry),5000\n".utf8)
            }
        }
        return out
    }

    static func id(_ i: Int) -> String {
        let s = String(i + 1)
        return "M" + String(repeating: "0", count: max(0, 6 - s.count)) + s
    }

    /// The stream's partition of a meter: FNV-1a 64 of the id, mod P (docs/scale-out.md).
    static func partition(_ id: String) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return Int(h % UInt64(partitions))
    }

    /// The 4 partitions' encoded batches for the slot [t0, t0 + 15 min).
    static func batches(_ registry: Registry, _ settings: EngineSettings) -> [[UInt8]] {
        let sinks = (0..<partitions).map { _ in WindowCounter() }
        let engines = (0..<partitions).map { p -> Engine in
            let e = Engine(settings: settings, registry: registry, sink: sinks[p], now: now)
            e.assume(role: .partition(index: p, of: partitions))
            return e
        }
        // A round of baselines at the slot start, then a round at its end (a reading behind the
        // watermark would be late): one span per meter in the slot.
        var lines = Array(repeating: [UInt8](), count: partitions)
        for (ts, step) in [("2026-11-18T00:00:00+08:00", 0.0), ("2026-11-18T00:15:00+08:00", 1.0)] {
            for m in 0..<meters {
                let id = id(m)
                let kwh = 1000 + Double(m % 977) + step * (1 + Double(m % 13) / 4)
                lines[partition(id)].append(contentsOf: "r,\(id),\(ts),\(kwh)\n".utf8)
            }
        }
        var out: [[UInt8]] = []
        for (p, e) in engines.enumerated() {
            var line: Int64 = 1
            let source = e.source(named: "bench")
            lines[p].withUnsafeBytes { _ = e.ingest($0, source: source, line: &line) }
            // Past the slot's end plus the span horizon: the slot and the 15-minute window close.
            e.advanceWatermark(to: t0 + 15 * Time.microsPerMinute + e.settings.spanHorizon)
            guard let batch = e.takePartialBatch(streamSeq: UInt64(p + 1)) else { fatalError("partition \(p) closed nothing") }
            precondition(sinks[p].lost == 0, "partition \(p): \(sinks[p].lost) lines lost (rejected, late or anomalous)")
            precondition(batch.slots.count == 1 && batch.windows.count == 1, "expected one slot and one window, got \(batch.slots.count) and \(batch.windows.count)")
            out.append(batch.encoded())
        }
        return out
    }

    final class Case: @unchecked Sendable {
        let registry: Registry
        let settings: EngineSettings
        let batches: [[UInt8]]
        init(meterLevel: Bool) {
            var settings = EngineSettings()
            if meterLevel { settings.levels = Level.defaults + [.meter] }
            self.settings = settings
            registry = try! Registry(csv: registryCSV(), origin: "bench", meterLevel: meterLevel)
            batches = MergeFixture.batches(registry, settings)
        }

        func merger() -> (Engine, WindowCounter) {
            let sink = WindowCounter()
            let e = Engine(settings: settings, registry: registry, sink: sink, now: now)
            e.assume(role: .merge(partitions: partitions))
            return (e, sink)
        }

        /// Decode and merge the 4 batches; the last one closes the window.
        func merge(into e: Engine) {
            for bytes in batches {
                let batch = bytes.withUnsafeBytes { try! PartialBatch(decoding: $0) }
                try! e.mergePartial(batch)
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(10),
        maxIterations: 100
    )
    for meterLevel in [false, true] {
        let name = meterLevel ? "merge 100k meters from 4 partitions, meter level on" : "merge 100k meters from 4 partitions"
        nonisolated(unsafe) var fixture: MergeFixture.Case?
        Benchmark(name) { benchmark in
            let c = fixture!
            for _ in benchmark.scaledIterations {
                let (merger, sink) = c.merger()
                benchmark.startMeasurement()
                c.merge(into: merger)
                benchmark.stopMeasurement()
                precondition(sink.windows == 1, "the window did not close in the merger (\(sink.windows) closed)")
                blackHole(sink.rows)
            }
        } setup: {
            let c = MergeFixture.Case(meterLevel: meterLevel)
            // Once: the merged window must be there, with the sizes claimed.
            let (merger, sink) = c.merger()
            c.merge(into: merger)
            precondition(sink.windows == 1 && sink.nationalMeters == Int32(MergeFixture.meters), "the merged window holds \(sink.nationalMeters) meters")
            print("\(name): \(c.registry.profiles.count) profiles, batches of \(c.batches.map(\.count).reduce(0, +)) bytes, \(sink.rows) rows in the window")
            fixture = c
        }
    }
}
