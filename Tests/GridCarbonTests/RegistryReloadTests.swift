import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// Live registry reloads (§2.1) in the engine: per-meter state follows the meter id, spans take
/// the keys their meter has when they are attributed, nothing accepted is lost, and a checkpoint
/// taken after a reload resumes to the same output.
@Suite struct RegistryReloadTests {
    static let header = "meter_id,region,city,park,enterprise,industry,max_kw\n"

    static func registry(_ csv: String, meterLevel: Bool = false) -> Registry {
        try! Registry(csv: csv, origin: "test", meterLevel: meterLevel)
    }

    static func feed(_ engine: Engine, _ lines: [String]) {
        var text = lines.joined(separator: "\n") + "\n"
        var line: Int64 = 1
        let src = engine.source(named: "test")
        text.withUTF8 { _ = engine.ingest(UnsafeRawBufferPointer($0), source: src, line: &line) }
    }

    static func row(_ sink: CollectingSink, _ registry: Registry, _ len: String, _ start: String, _ level: Level, _ key: String) -> AggregateRow? {
        sink.row(length: DurationFormat.parse(len)!, start: Harness.t(start), level: level, key: key, registry: registry)
    }

    @Test func movedMeterTakesItsNewKeysForSpansAttributedAfterTheReload() {
        let h = Harness()
        Self.feed(h.engine, ["i,A,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,10",
                             "i,A,2026-11-18T10:15:00+08:00,2026-11-18T10:30:00+08:00,20"])
        // W = 10:15: the first span is attributed (city SZ), the second is pending.
        #expect(h.engine.pendingCount == 1)
        let moved = Harness.defaultRegistry.split(separator: "\n").map { $0.hasPrefix("A,") ? "A,CN-GD,NEWC,P1,E1,C,1000" : String($0) }.joined(separator: "\n")
        let (e, change) = h.engine.replacingRegistry(with: Self.registry(moved))
        #expect(change == { var c = RegistryChange(); c.meters = 4; c.changed = 1; c.retired = 1; return c }())
        // The old keys keep their indices; the new city is appended.
        #expect(Array(e.registry.keyNames[Level.city.rawValue].prefix(4)) == h.registry.keyNames[Level.city.rawValue])
        #expect(e.registry.keyNames[Level.city.rawValue].last == "NEWC")
        #expect(e.registry.liveCount == 4 && e.registry.count == 5)   // A's open-slot energy under SZ
        Self.feed(e, ["i,A,2026-11-18T10:30:00+08:00,2026-11-18T10:45:00+08:00,40"])
        e.finish()
        let r = e.registry
        #expect(Self.row(h.sink, r, "15m", "2026-11-18T10:00:00+08:00", .city, "SZ")?.energy == 10)
        #expect(Self.row(h.sink, r, "15m", "2026-11-18T10:15:00+08:00", .city, "SZ") == nil)
        #expect(Self.row(h.sink, r, "15m", "2026-11-18T10:15:00+08:00", .city, "NEWC")?.energy == 20)
        #expect(Self.row(h.sink, r, "15m", "2026-11-18T10:30:00+08:00", .city, "NEWC")?.energy == 40)
        let sz = Self.row(h.sink, r, "1h", "2026-11-18T10:00:00+08:00", .city, "SZ")
        #expect(sz?.energy == 10 && sz?.spans == 1 && sz?.meters == 1)
        let newc = Self.row(h.sink, r, "1h", "2026-11-18T10:00:00+08:00", .city, "NEWC")
        #expect(newc?.energy == 60 && newc?.spans == 2)
        // Counted once per window, under the keys it had first.
        #expect(newc?.meters == 0)
        let national = Self.row(h.sink, r, "1h", "2026-11-18T10:00:00+08:00", .national, "CN")
        #expect(national?.energy == 70 && national?.meters == 1 && national?.spans == 3)
        #expect(Self.row(h.sink, r, "1d", "2026-11-18T00:00:00+08:00", .enterprise, "E1")?.energy == 70)
        #expect(e.totals.csv(registry: r, levels: e.settings.levels).count > 0)
    }

    @Test func removedMetersAcceptedEnergyIsConserved() {
        let h = Harness()
        Self.feed(h.engine, ["r,B,2026-11-18T10:00:00+08:00,100",
                             "r,B,2026-11-18T10:15:00+08:00,110",
                             "r,B,2026-11-18T10:30:00+08:00,130"])
        // W = 10:15: [10:00, 10:15) is in an open slot, the 10:30 reading is pending.
        let without = Harness.defaultRegistry.split(separator: "\n").filter { !$0.hasPrefix("B,") }.joined(separator: "\n")
        let (e, change) = h.engine.replacingRegistry(with: Self.registry(without))
        #expect(change.removed == 1 && change.retired == 1 && change.meters == 3)
        #expect(e.registry.lookup("B") == nil && e.registry.count == 4 && e.registry.meterID(3) == "B")
        Self.feed(e, ["r,B,2026-11-18T10:45:00+08:00,150",
                      "i,C,2026-11-18T10:45:00+08:00,2026-11-18T11:00:00+08:00,1"])
        #expect(h.sink.rejected.map(\.0) == [.unknownMeter])
        e.finish()
        let r = e.registry
        let gz = Self.row(h.sink, r, "1h", "2026-11-18T10:00:00+08:00", .city, "GZ")
        #expect(gz?.energy == 30 && gz?.spans == 2 && gz?.meters == 1)
        #expect(Self.row(h.sink, r, "1h", "2026-11-18T10:00:00+08:00", .national, "CN")?.energy == 31)
        #expect(h.sink.lateSpans.isEmpty)
        #expect(e.counts.accepted == 4 && e.counts.rejected == 1)
        // Holding nothing any more, the retired B goes at the next reload (even a no-op one).
        let (e2, again) = e.replacingRegistry(with: Self.registry(without))
        #expect(again.isEmpty && again.retired == 0 && e2.registry.count == 3)
        // A meter that comes back is a new meter.
        let (e3, back) = e2.replacingRegistry(with: Self.registry(Harness.defaultRegistry))
        #expect(back.added == 1 && e3.registry.lookup("B") == 1 && e3.registry.count == 4)
    }

    @Test func addedMeterIsAcceptedAfterTheReload() {
        let h = Harness()
        Self.feed(h.engine, ["i,N,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,5"])
        #expect(h.sink.rejected.map(\.0) == [.unknownMeter])
        let (e, change) = h.engine.replacingRegistry(with: Self.registry(Harness.defaultRegistry + "\nN,CN-BJ,BJ,,,,\n"))
        #expect(change.added == 1 && change.removed == 0 && change.changed == 0 && change.meters == 5)
        Self.feed(e, ["i,N,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,5"])
        e.finish()
        #expect(e.counts.accepted == 1)
        #expect(Self.row(h.sink, e.registry, "15m", "2026-11-18T10:00:00+08:00", .city, "BJ")?.energy == 5)
        #expect(Self.row(h.sink, e.registry, "15m", "2026-11-18T10:00:00+08:00", .province, "CN-BJ")?.energy == 5)
    }

    /// The checkpoint scenario with a reload a third of the way in (a meter dropped, one moved to a
    /// new city, one with a new max_kw, one added, the file in another order): checkpoints taken
    /// after the reload, restored into an engine built from the registry snapshot, give the output
    /// of the uninterrupted run.
    @Test(arguments: [false, true])
    func checkpointAfterAReloadResumesToTheSameOutput(alternativeSettings: Bool) throws {
        let settings = alternativeSettings ? CheckpointTests.alternative : EngineSettings()
        let meterLevel = settings.levels.contains(.meter)
        let (registry, lines) = CheckpointTests.scenario()
        var rows = registry.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let head = rows.removeFirst()
        rows = rows.filter { !$0.hasPrefix("M7,") }.map { row in
            var f = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if f[0] == "M8" { f[2] = "MOVED" }
            if f[0] == "M9" { f[6] = "10" }
            return f.joined(separator: ",")
        }.reversed()
        rows.append("NEW1,CN-SH,SH,,,C,")
        let reloaded = ([head] + rows).joined(separator: "\n") + "\n"
        let k = lines.count / 3

        func run(checkpointAt: Int?) throws -> CheckpointTests.Output {
            let h = Harness(registry: registry, settings: settings)
            _ = h.engine.source(named: "test")
            CheckpointTests.feed(h.engine, lines, 0..<k)
            #expect(h.engine.pendingCount > 0)
            var (e, change) = h.engine.replacingRegistry(with: try Registry(csv: reloaded, origin: "reload", meterLevel: meterLevel))
            #expect(change.removed == 1 && change.added == 1 && change.changed == 2 && change.retired >= 1)
            guard let c = checkpointAt else {
                CheckpointTests.feed(e, lines, k..<lines.count)
                e.finish()
                return CheckpointTests.Output(h.sink)
            }
            CheckpointTests.feed(e, lines, k..<c)
            let bytes = e.checkpoint()
            let prefix = CheckpointTests.Prefix(h.sink)
            let snapshot = e.registry.snapshot()
            let restoredRegistry = try Registry(snapshot: snapshot)
            #expect(restoredRegistry.snapshot() == snapshot)
            let sink = CollectingSink()
            e = Engine(settings: settings, registry: restoredRegistry, sink: sink, now: Harness.t("2030-01-01T00:00:00+08:00"))
            try e.restore(from: bytes)
            #expect(e.checkpoint() == bytes)
            CheckpointTests.feed(e, lines, c..<lines.count)
            e.finish()
            // The uninterrupted sink's calls up to the split, then the resumed engine's.
            var out = CheckpointTests.Output(h.sink)
            let rest = CheckpointTests.Output(sink)
            out.windows = Array(out.windows.prefix(prefix.windows)) + rest.windows
            out.anomalies = Array(out.anomalies.prefix(prefix.anomalies)) + rest.anomalies
            out.lateSpans = Array(out.lateSpans.prefix(prefix.lateSpans)) + rest.lateSpans
            out.rejected = Array(out.rejected.prefix(prefix.rejected)) + rest.rejected
            out.late = Array(out.late.prefix(prefix.late)) + rest.late
            return out
        }
        let expected = try run(checkpointAt: nil)
        #expect(expected.rejected.contains { $0.contains("r,M7,") })
        #expect(expected.windows.count > 10)
        for c in [k, k + 1, k + 50, (k + lines.count) / 2, lines.count] {
            let got = try run(checkpointAt: c)
            CheckpointTests.same(got.windows, expected.windows, "windows (checkpoint at \(c))")
            CheckpointTests.same(got.anomalies, expected.anomalies, "anomalies (checkpoint at \(c))")
            CheckpointTests.same(got.lateSpans, expected.lateSpans, "late spans (checkpoint at \(c))")
            CheckpointTests.same(got.rejected, expected.rejected, "rejected (checkpoint at \(c))")
        }
        // A checkpoint does not restore with the registry file's registry once a reload changed it.
        let h = Harness(registry: registry, settings: settings)
        CheckpointTests.feed(h.engine, lines, 0..<k)
        let (e, _) = h.engine.replacingRegistry(with: try Registry(csv: reloaded, origin: "reload", meterLevel: meterLevel))
        let fresh = Harness(registry: reloaded, settings: settings)
        #expect(throws: CheckpointError.self) { try fresh.engine.restore(from: e.checkpoint()) }
    }

    @Test func snapshotsRoundTripAndRefuseDamage() throws {
        let old = Self.registry(Harness.defaultRegistry, meterLevel: true)
        let fresh = Self.registry(Self.header + "N,CN-BJ,BJ,,,,\nA,CN-GD,NEWC,P1,E1,C,1000\n", meterLevel: true)
        let rep = old.replaced(by: fresh) { i, s, _ in s == nil && i == 1 }
        let r = rep.registry
        #expect(rep.successor == [1, -1, -1, -1] && rep.retiredAs == [-1, 2, -1, -1])
        #expect(r.liveCount == 2 && r.count == 3 && r.lookup("B") == nil && r.meterID(2) == "B")
        #expect(Array(r.keyNames[Level.meter.rawValue].prefix(4)) == ["A", "B", "C", "T"] && r.keyNames[Level.meter.rawValue].last == "N")
        #expect(Array(r.profiles.prefix(4)) == old.profiles)
        #expect(r.profiles[Int(r.profile(of: 2))] == old.profiles[1])
        let bytes = r.snapshot()
        let back = try Registry(snapshot: bytes)
        #expect(back.snapshot() == bytes && back.liveCount == 2 && back.lookup("B") == nil && back.lookup("N") == 0)
        // The sequential shortcut of the lookup does not find the retired meter either.
        let shortcut = Array("B".utf8).withUnsafeBytes { back.index!.lookup($0, after: 1) }
        #expect(shortcut == nil)
        var damaged = bytes
        damaged[40] ^= 1
        #expect(throws: TableError.self) { try Registry(snapshot: damaged) }
        #expect(throws: TableError.self) { try Registry(snapshot: Array(bytes.dropLast(3))) }
    }
}
