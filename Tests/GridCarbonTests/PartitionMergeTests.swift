import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// Scale-out without the network (§8): the meters split into partitions, each run by its own
/// partition engine, their batches and the grid records merged, give exactly what one engine gives,
/// whatever the number of partitions, the split, and the order in which batches and grid messages
/// reach the merger.
@Suite struct PartitionMergeTests {
    static let settings: AlertSettings = {
        var hot = AlertRule(name: "hot", kind: .intensity)
        hot.window = 15 * Time.microsPerMinute; hot.threshold = 0.55; hot.level = .province
        var budget = AlertRule(name: "budget", kind: .budget)
        budget.warnRatio = 0.5
        var forecast = AlertRule(name: "forecast", kind: .forecast)
        forecast.lookback = Time.microsPerHour
        return AlertSettings(rules: [hot, budget, forecast],
                             budgets: [Budget(level: .province, key: "CN-GD", period: .day, kg: 300),
                                       Budget(level: .enterprise, key: "E3", period: .day, kg: 200)])
    }()

    /// The stream: every line with its sequence, in arrival order.
    static func stream(seed: UInt64) -> (registry: Registry, lines: [String]) {
        let (csv, records) = OrderTests.fleet(meters: 90, hours: 5, seed: seed)
        var rng = SplitMix(seed: seed &+ 100)
        var timed = records.map { ($0.arrival + Int64(rng.next() % 600) * Time.microsPerSecond, $0.line) }
        // Real-time factors that arrive about when their slot closes (slot end + span horizon +
        // reorder window, give or take 5 minutes): some in time, some too late. Which is which
        // depends on the stream position, and the merger must get it the same.
        let f = TimeFormatter(zone: .shanghai)
        let start = Harness.t("2026-11-18T00:00:00+08:00")
        for k in 0..<18 {
            let a = start + Int64(k) * 15 * Time.microsPerMinute
            let arrival = a + 90 * Time.microsPerMinute + (Int64(rng.next() % 600) - 300) * Time.microsPerSecond
            timed.append((arrival, "f,CN-YN,\(f.string(a)),\(f.string(a + 15 * Time.microsPerMinute)),\(0.2 + Double(k) / 50)"))
        }
        let lines = timed.sorted { $0.0 < $1.0 }.map(\.1)
        let registry = try! Registry(csv: csv, origin: "test", meterLevel: false)
        return (registry, lines)
    }

    static func isGrid(_ line: String) -> Bool { ["f,", "m,", "x,", "o,", "c,"].contains { line.hasPrefix($0) } }
    static func meter(_ line: String) -> Substring { line.split(separator: ",")[1] }

    static func engine(_ registry: Registry, role: EngineRole, sink: CollectingSink) -> Engine {
        let e = Engine(settings: EngineSettings(), registry: registry, sink: sink, now: Harness.t("2030-01-01T00:00:00+08:00"))
        e.assume(role: role)
        if !(e.scaleOut?.isPartition ?? false) { e.configureAlerts(settings) }
        return e
    }

    static func feed(_ e: Engine, _ line: String) {
        var text = line + "\n"
        var n: Int64 = 1
        let src = e.source(named: "test")
        text.withUTF8 { _ = e.ingest(UnsafeRawBufferPointer($0), source: src, line: &n) }
    }

    /// One engine over the whole stream.
    static func whole(_ registry: Registry, _ lines: [String]) -> CollectingSink {
        let sink = CollectingSink()
        let e = engine(registry, role: .whole, sink: sink)
        for l in lines { feed(e, l) }
        e.finish()
        return sink
    }

    /// What reaches the merger, in stream order: batches (as bytes) and grid messages.
    enum Delivery { case batch([UInt8]), grid(UInt64, String), through(UInt64) }

    /// Runs `parts` partition engines over the stream (meters split by `split`) and returns what
    /// they hand to the merger, in the order produced.
    static func partitions(_ registry: Registry, _ lines: [String], parts: Int, registries: [Registry]? = nil, split: (Substring) -> Int) -> [Delivery] {
        let engines = (0..<parts).map { engine(registries?[$0] ?? registry, role: .partition(index: $0, of: parts), sink: CollectingSink()) }
        var out: [Delivery] = []
        for (i, l) in lines.enumerated() {
            let seq = UInt64(i + 1)
            if isGrid(l) { out.append(.grid(seq, l)); continue }
            let p = split(meter(l))
            feed(engines[p], l)
            if let b = engines[p].takePartialBatch(streamSeq: seq) { out.append(.batch(b.encoded())) }
        }
        // The end of the input: each partition is told in turn, after every data message.
        for p in 0..<parts {
            engines[p].finish()
            if let b = engines[p].takePartialBatch(streamSeq: UInt64(lines.count + 1 + p)) { out.append(.batch(b.encoded())) }
        }
        out.append(.through(UInt64(lines.count + parts)))
        return out
    }

    static func merge(_ registry: Registry, parts: Int, _ deliveries: [Delivery]) throws -> CollectingSink {
        let sink = CollectingSink()
        let m = engine(registry, role: .merge(partitions: parts), sink: sink)
        for d in deliveries { try deliver(d, to: m) }
        return sink
    }

    static func deliver(_ d: Delivery, to m: Engine) throws {
        switch d {
        case .batch(let bytes): try m.mergePartial(try bytes.withUnsafeBytes { try PartialBatch(decoding: $0) })
        case .grid(let seq, let line):
            var text = line + "\n"
            text.withUTF8 { m.mergeGrid(seq: seq, lines: UnsafeRawBufferPointer($0)) }
        case .through(let seq): m.mergeGridThrough(seq)
        }
    }

    static func csv(_ sink: CollectingSink, _ registry: Registry) -> [String] {
        sink.windows.map { w in
            "\(w.length) \(w.start)\n" + String(decoding: AggregateCSV.render(w, registry: registry, formatter: TimeFormatter(zone: .shanghai)), as: UTF8.self)
        }
    }

    /// The first line where two renderings differ, or nil when they are the same.
    static func difference(_ a: [String], _ b: [String]) -> String? {
        let la = a.joined().split(separator: "\n", omittingEmptySubsequences: false)
        let lb = b.joined().split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(la.count, lb.count) {
            let x = i < la.count ? String(la[i]) : "(end)", y = i < lb.count ? String(lb[i]) : "(end)"
            if x != y { return "line \(i + 1): got \(x), want \(y)" }
        }
        return nil
    }

    static func fnv(_ s: Substring, _ parts: Int) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Int(h % UInt64(parts))
    }

    @Test(arguments: [1, 2, 3, 4, 7])
    func anyNumberOfPartitionsGivesTheWholeEnginesBytes(parts: Int) throws {
        let (registry, lines) = Self.stream(seed: 5)
        let want = Self.whole(registry, lines)
        #expect(want.windows.count > 20)
        #expect(want.alerts.count > 3)
        let got = try Self.merge(registry, parts: parts, Self.partitions(registry, lines, parts: parts) { Self.fnv($0, parts) })
        #expect(Self.difference(Self.csv(got, registry), Self.csv(want, registry)) == nil)
        #expect(got.alerts == want.alerts)
        #expect(got.rejected.isEmpty)
    }

    @Test func anySplitOfTheMetersGivesTheSameBytes() throws {
        let (registry, lines) = Self.stream(seed: 8)
        let want = Self.csv(Self.whole(registry, lines), registry)
        var rng = SplitMix(seed: 77)
        var assignment: [Substring: Int] = [:]
        let got = try Self.merge(registry, parts: 3, Self.partitions(registry, lines, parts: 3) { id in
            if let p = assignment[id] { return p }
            let p = Int(rng.next() % 3)
            assignment[id] = p
            return p
        })
        #expect(Self.difference(Self.csv(got, registry), want) == nil)
    }

    /// Batches and grid messages reach the merger late, interleaved at random (grid messages keep
    /// their order, as a consumer delivers them), and a worker's replay resends batches: the bytes
    /// do not change.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func arrivalOrderAtTheMergerDoesNotMatter(seed: UInt64) throws {
        let (registry, lines) = Self.stream(seed: 9)
        let parts = 3
        let want = Self.whole(registry, lines)
        let produced = Self.partitions(registry, lines, parts: parts) { Self.fnv($0, parts) }
        // Split into per-partition queues and the grid queue, then interleave them at random.
        var queues: [[Delivery]] = Array(repeating: [], count: parts + 1)
        for d in produced {
            switch d {
            case .batch(let b):
                let p = Int(try b.withUnsafeBytes { try PartialBatch(decoding: $0) }.partition)
                queues[p].append(d)
            default: queues[parts].append(d)
            }
        }
        var rng = SplitMix(seed: seed)
        var order: [Delivery] = []
        var resent = 0
        while queues.contains(where: { !$0.isEmpty }) {
            let q = Int(rng.next() % UInt64(parts + 1))
            guard !queues[q].isEmpty else { continue }
            let d = queues[q].removeFirst()
            order.append(d)
            if case .batch = d, rng.next() % 10 == 0 { order.append(d); resent += 1 }
        }
        let sink = CollectingSink()
        let m = Self.engine(registry, role: .merge(partitions: parts), sink: sink)
        for d in order { try Self.deliver(d, to: m) }
        #expect(resent > 0)
        #expect(m.mergeProgress!.duplicateBatches == resent)
        #expect(Self.difference(Self.csv(sink, registry), Self.csv(want, registry)) == nil)
        #expect(sink.alerts == want.alerts)
    }

    /// A merger restored from a checkpoint taken anywhere carries on to the same bytes.
    @Test func mergerCheckpointsAnywhere() throws {
        let (registry, lines) = Self.stream(seed: 10)
        let parts = 2
        let produced = Self.partitions(registry, lines, parts: parts) { Self.fnv($0, parts) }
        let want = try Self.merge(registry, parts: parts, produced)
        for cut in stride(from: 5, to: produced.count, by: produced.count / 6) {
            let first = CollectingSink()
            let a = Self.engine(registry, role: .merge(partitions: parts), sink: first)
            for d in produced[..<cut] { try Self.deliver(d, to: a) }
            let bytes = a.checkpoint()
            let second = CollectingSink()
            let b = Self.engine(registry, role: .merge(partitions: parts), sink: second)
            try b.restore(from: bytes)
            for d in produced[cut...] { try Self.deliver(d, to: b) }
            #expect(Self.difference(Self.csv(first, registry) + Self.csv(second, registry), Self.csv(want, registry)) == nil, "cut \(cut)")
            #expect(first.alerts + second.alerts == want.alerts, "cut \(cut)")
        }
    }

    @Test func aBatchFromAnotherRegistryIsRefused() throws {
        let (registry, lines) = Self.stream(seed: 5)
        let other = try Registry(csv: "meter_id,region,city,park,enterprise,industry,max_kw\nX,CN-GD,,,,,\n", origin: "other", meterLevel: false)
        let m = Self.engine(other, role: .merge(partitions: 1), sink: CollectingSink())
        let produced = Self.partitions(registry, lines, parts: 1) { _ in 0 }
        guard case .batch(let bytes)? = produced.first(where: { if case .batch = $0 { true } else { false } }) else {
            Issue.record("no batch"); return
        }
        #expect(throws: ScaleOutError.self) { try m.mergePartial(try bytes.withUnsafeBytes { try PartialBatch(decoding: $0) }) }
    }

    @Test func aMeterRecordOnTheGridSubjectIsMisrouted() throws {
        let (registry, _) = Self.stream(seed: 5)
        let sink = CollectingSink()
        let m = Self.engine(registry, role: .merge(partitions: 1), sink: sink)
        var text = "r,M1,2026-11-18T00:05:00+08:00,5\n"
        text.withUTF8 { m.mergeGrid(seq: 1, lines: UnsafeRawBufferPointer($0)) }
        m.mergeGridThrough(1)
        try m.mergePartial(PartialBatch(partition: 0, partitions: 1, profileHash: m.profileHash, slot: m.slotLen, windowLengths: m.windowLens,
                                        streamSeq: 2, closedBefore: 10, slots: [], windows: []))
        #expect(sink.rejected.map(\.0) == [.misrouted])
    }

    /// Each worker keeps only its partition's meters and the merger none (``MeterScope``): key
    /// names and profiles are the same everywhere, so the bytes are the whole engine's; a record of
    /// another partition's meter is `misrouted` at a worker, and an unknown id stays `unknown_meter`.
    @Test(arguments: [2, 3, 4])
    func workersKeepTheirMetersAndTheMergerNone(parts: Int) throws {
        let (registry, lines) = Self.stream(seed: 21)
        let csv = OrderTests.fleet(meters: 90, hours: 5, seed: 21).registry
        let want = Self.whole(registry, lines)
        let scoped = try (0..<parts).map { try Registry(csv: csv, origin: "test", scope: .partition(index: $0, of: parts)) }
        let none = try Registry(csv: csv, origin: "test", scope: .none)
        #expect(scoped.map(\.count).reduce(0, +) == registry.count)
        #expect(scoped.allSatisfy { $0.count < registry.count })
        #expect(none.count == 0)
        for r in scoped + [none] {
            #expect(r.profiles == registry.profiles)
            #expect(r.keyNames == registry.keyNames)
            // The daemon applies its registry file as a reload of an empty one: the same numbering.
            let loaded = Registry().replaced(by: r) { _, _, _ in false }.registry
            #expect(loaded.profiles == registry.profiles)
            #expect(loaded.keyNames == registry.keyNames)
        }
        let produced = Self.partitions(registry, lines, parts: parts, registries: scoped) { Self.fnv($0, parts) }
        let got = try Self.merge(none, parts: parts, produced)
        #expect(Self.difference(Self.csv(got, none), Self.csv(want, registry)) == nil)
        #expect(got.alerts == want.alerts)

        let sink = CollectingSink()
        let worker = Self.engine(scoped[0], role: .partition(index: 0, of: parts), sink: sink)
        let elsewhere = (0..<90).map { "M\($0)" }.first { Self.fnv(Substring($0), parts) != 0 }!
        Self.feed(worker, "r,\(elsewhere),2026-11-18T00:05:00+08:00,5")
        Self.feed(worker, "r,NOT-IN-REGISTRY-\((0..<1000).first { Self.fnv(Substring("NOT-IN-REGISTRY-\($0)"), parts) == 0 }!),2026-11-18T00:05:00+08:00,5")
        #expect(sink.rejected.map(\.0) == [.misrouted, .unknownMeter])
    }
}
