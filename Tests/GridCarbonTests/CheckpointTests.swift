import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// Crash-recovery checkpoints (§6): ingest part 1, checkpoint, restore into a fresh engine, ingest
/// part 2, finish — every sink call after the split is the one an uninterrupted engine makes.
@Suite struct CheckpointTests {
    // MARK: Scenario

    static let hour = Time.microsPerHour
    static let day0 = Harness.t("2026-11-18T00:00:00+08:00")

    /// The order-test fleet over 30 hours, jittered inside the reorder window, plus what the fleet
    /// alone never does: a meter silent for 26 h (meter_gap and a late_span on its return), one
    /// silent for 3 h (late_span), a 3-hour interval record arriving after its first slots closed,
    /// an implausible jump, a register reset, exact and conflicting duplicates, rejected and late
    /// lines, comments and blank lines.
    static func scenario(seed: UInt64 = 5, jitterMinutes: UInt64 = 9) -> (registry: String, lines: [String]) {
        let (registry, records) = OrderTests.fleet(meters: 40, hours: 30, seed: seed)
        let reg = registry.split(separator: "\n", omittingEmptySubsequences: false).map { row in
            row.hasPrefix("M2,") ? String(row) + "500" : String(row)
        }.joined(separator: "\n")
        let f = TimeFormatter(zone: .shanghai)
        var rng = SplitMix(seed: seed &* 31)
        var out: [(Micros, String)] = []
        for (arrival, line) in records {
            let fields = line.split(separator: ",").map(String.init)
            let t = arrival
            if line.hasPrefix("r,M5,") && t >= day0 + 2 * hour && t < day0 + 28 * hour { continue }
            if line.hasPrefix("r,M11,") && t >= day0 + 3 * hour && t < day0 + 6 * hour { continue }
            var text = line
            if line.hasPrefix("r,M2,") && t >= day0 + 10 * hour {
                text = "r,M2,\(fields[2]),\(Double(fields[3])! + 2000)"
            } else if line.hasPrefix("r,M1,") && t >= day0 + 12 * hour {
                text = "r,M1,\(fields[2]),\(Double(fields[3])! - 500)"
            }
            let delay = Int64(rng.next() % (jitterMinutes * 60)) * Time.microsPerSecond
            out.append((t + delay, text))
            if line.hasPrefix("r,M4,") && rng.next() % 40 == 0 {
                out.append((t + delay, text))                                          // exact duplicate
                out.append((t + delay + 1, "r,M4,\(fields[2]),\(Double(fields[3])! + 1)"))   // conflicting
            }
            if line.hasPrefix("r,M6,") && rng.next() % 50 == 0 {
                out.append((t + 2 * hour, text))                                       // late: 2 h after
            }
        }
        // The long interval goes to a register meter: the interval meters (M3, M10, …) report back to
        // back, and a 3-hour interval over theirs would overlap them (§3.1).
        out.append((day0 + 8 * hour + 60 * Time.microsPerSecond, "i,M13,\(f.string(day0 + 5 * hour)),\(f.string(day0 + 8 * hour)),30"))
        for h in stride(from: 1, to: 30, by: 4) {
            let t = day0 + Int64(h) * hour + 7 * Time.microsPerSecond
            out.append((t, "r,NOPE,\(f.string(t)),1"))
            out.append((t, "garbage"))
            out.append((t, "r,M4,yesterday,1"))
            out.append((t, "f,CN-GD,\(f.string(t - 7 * Time.microsPerSecond + 10 * Time.microsPerMinute)),\(f.string(t + 30 * Time.microsPerMinute)),0.9"))
            out.append((t, "# a comment"))
            out.append((t, ""))
        }
        return (reg, out.sorted { $0.0 < $1.0 }.map(\.1))
    }

    /// Everything a sink received, exactly (doubles by bit pattern), per kind in call order.
    struct Output: Equatable {
        var windows: [String] = []
        var anomalies: [String] = []
        var lateSpans: [String] = []
        var rejected: [String] = []
        var late: [String] = []

        init(_ s: CollectingSink, from p: Prefix = Prefix()) {
            windows = s.windows.dropFirst(p.windows).map { w in
                "\(w.lengthIndex) \(w.length) \(w.start) \(w.end): " + w.rows.map {
                    "\($0.level.rawValue)/\($0.key)/\($0.energy.bitPattern)/\($0.co2.bitPattern)/\($0.realtimeEnergy.bitPattern)/\($0.meters)/\($0.spans)"
                }.joined(separator: " ")
            }
            anomalies = s.anomalies.dropFirst(p.anomalies).map {
                "\($0.kind) \($0.meter) \($0.ts) \($0.kwh.bitPattern) \($0.previousTs) \($0.previousKWh.bitPattern) \($0.maxKW.bitPattern)"
            }
            lateSpans = s.lateSpans.dropFirst(p.lateSpans).map { "\($0.meter) \($0.start) \($0.end) \($0.kwh.bitPattern)" }
            rejected = s.rejected.dropFirst(p.rejected).map { "\($0.0) \($0.1) \($0.2.source) \($0.2.line)" }
            late = Array(s.late.dropFirst(p.late))
        }
    }

    /// How many calls of each kind a sink had received at some point.
    struct Prefix {
        var windows = 0, anomalies = 0, lateSpans = 0, rejected = 0, late = 0
        init() {}
        init(_ s: CollectingSink) {
            windows = s.windows.count; anomalies = s.anomalies.count; lateSpans = s.lateSpans.count
            rejected = s.rejected.count; late = s.late.count
        }
    }

    /// Compares two call sequences, reporting the first difference rather than both in full.
    static func same(_ got: [String], _ want: [String], _ what: String) {
        if got == want { return }
        let i = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
        Issue.record("\(what): \(got.count) calls, expected \(want.count); first difference at \(i): \(i < got.count ? got[i] : "none") vs \(i < want.count ? want[i] : "none")")
    }

    static func feed(_ engine: Engine, _ lines: [String], _ range: Range<Int>) {
        let src = engine.source(named: "test")
        for i in range {
            var line = lines[i]
            line.withUTF8 { engine.ingestLine(UnsafeRawBufferPointer($0), origin: LineOrigin(source: src, line: Int64(i + 1))) }
        }
    }

    static func pendingIntervals(_ e: Engine) -> Int {
        var n = 0
        for m in 0..<e.meterCount {
            var h = e.pendHead[m]
            while h >= 0 { if e.pool[Int(h)].kind == 1 { n += 1 }; h = e.pool[Int(h)].next }
        }
        return n
    }

    static var alternative: EngineSettings {
        var s = EngineSettings()
        s.slot = 5 * Time.microsPerMinute
        s.windows = [5 * Time.microsPerMinute, Time.microsPerHour, 2 * Time.microsPerDay]
        s.levels = Level.allCases
        s.spanHorizon = 30 * Time.microsPerMinute
        s.reorderWindow = 10 * Time.microsPerMinute
        s.maxGap = 12 * Time.microsPerHour
        return s
    }

    // MARK: Split and resume

    @Test(arguments: [false, true])
    func resumingFromACheckpointGivesTheSameOutput(alternativeSettings: Bool) throws {
        let settings = alternativeSettings ? Self.alternative : EngineSettings()
        let (registry, lines) = Self.scenario()
        let n = lines.count

        // The uninterrupted run, line by line, noting what each split point holds.
        let full = Harness(registry: registry, settings: settings)
        _ = full.engine.source(named: "test")
        var prefixes: [Prefix] = [Prefix()]
        var closedBefore: [Int64] = [full.engine.closedBefore]
        var windowsClosed: [Int] = [0]
        var watermarks: [Micros] = [full.engine.watermark]
        var pendingIntervals: [Int] = [0]
        var pendingCount: [Int] = [0]
        for i in 0..<n {
            Self.feed(full.engine, lines, i..<(i + 1))
            prefixes.append(Prefix(full.sink))
            closedBefore.append(full.engine.closedBefore)
            windowsClosed.append(full.engine.windowsClosed)
            watermarks.append(full.engine.watermark)
            pendingIntervals.append(Self.pendingIntervals(full.engine))
            pendingCount.append(full.engine.pendingCount)
        }
        let endState = full.engine.checkpoint()
        let endTotals = full.engine.totals.csv(registry: full.registry, levels: settings.levels)
        full.engine.finish()
        let expected = Output(full.sink)
        #expect(!expected.anomalies.isEmpty && !expected.lateSpans.isEmpty && !expected.rejected.isEmpty && !expected.late.isEmpty)
        #expect(Set(full.sink.anomalies.map(\.kind)) == [.meterGap, .implausibleJump, .registerReset])
        #expect(full.engine.counts.duplicate > 0)
        #expect(Set(full.sink.rejected.map(\.0)).isSuperset(of: [.unknownMeter, .badKind, .badTimestamp, .conflictingDuplicate, .overlappingFactor]))
        #expect(Set(full.sink.lateSpans.map(\.meter)).isSuperset(of: [13, 5, 11]))

        // Split points (k = lines ingested before the checkpoint).
        func first(after k0: Int = 1, _ ok: (Int) -> Bool) -> Int {
            (k0...n).first(where: ok) ?? n
        }
        let firstSlotClose = first { closedBefore[$0] != closedBefore[$0 - 1] && closedBefore[$0 - 1] > Int64.min / 8 }
        let hourWindowClose = first(after: n / 3) { k in
            windowsClosed[k] > windowsClosed[k - 1] && full.sink.windows[prefixes[k].windows - 1].length == Time.microsPerHour
        }
        let wMoveWithIntervals = first(after: n / 5) { watermarks[$0] > watermarks[$0 - 1] && pendingIntervals[$0] > 0 && pendingCount[$0] > 40 }
        let m5Return = lines.firstIndex { $0.hasPrefix("r,M5,") && Harness.t(String($0.split(separator: ",")[2])) >= Self.day0 + 28 * Self.hour }! + 1
        let longInterval = lines.firstIndex { $0.hasSuffix(",30") && $0.hasPrefix("i,M13,") }! + 1
        let m2Jump = lines.firstIndex { $0.hasPrefix("r,M2,") && Harness.t(String($0.split(separator: ",")[2])) >= Self.day0 + 10 * Self.hour }! + 1
        var rng = SplitMix(seed: 77)
        let random = (0..<3).map { _ in Int(rng.next() % UInt64(n)) }
        let splits = [0, 1, firstSlotClose, hourWindowClose, wMoveWithIntervals, m5Return - 1, m5Return, longInterval, m2Jump, n] + random
        #expect(pendingIntervals[wMoveWithIntervals] > 0 && pendingIntervals[longInterval] > 0)

        // Checkpoints along a second uninterrupted run; taking them changes nothing.
        let again = Harness(registry: registry, settings: settings)
        _ = again.engine.source(named: "test")
        var checkpoints: [Int: [UInt8]] = [:]
        var at = 0
        for k in Set(splits).sorted() {
            Self.feed(again.engine, lines, at..<k)
            at = k
            checkpoints[k] = again.engine.checkpoint()
        }
        Self.feed(again.engine, lines, at..<n)
        again.engine.finish()
        let unchanged = Output(again.sink) == expected
        #expect(unchanged, "taking checkpoints changed the output")

        for k in splits {
            let bytes = checkpoints[k]!
            let resumed = Harness(registry: registry, settings: settings)
            try resumed.engine.restore(from: bytes)
            let roundTrip = resumed.engine.checkpoint() == bytes
            #expect(roundTrip, "split \(k): checkpoint of the restored engine differs from the one restored")
            #expect(resumed.engine.watermark == watermarks[k] && resumed.engine.pendingCount == pendingCount[k])
            Self.feed(resumed.engine, lines, k..<n)
            let sameEnd = resumed.engine.checkpoint() == endState
            #expect(sameEnd, "split \(k): state at the end of input differs")
            let sameTotals = resumed.engine.totals.csv(registry: resumed.registry, levels: settings.levels) == endTotals
            #expect(sameTotals, "split \(k): running totals differ")
            resumed.engine.finish()
            let got = Output(resumed.sink)
            let want = Output(full.sink, from: prefixes[k])
            Self.same(got.windows, want.windows, "split \(k): windows")
            Self.same(got.anomalies, want.anomalies, "split \(k): anomalies")
            Self.same(got.lateSpans, want.lateSpans, "split \(k): late spans")
            Self.same(got.rejected, want.rejected, "split \(k): rejected")
            Self.same(got.late, want.late, "split \(k): late lines")
            #expect(resumed.engine.counts == full.engine.counts, "split \(k): counts")
            #expect(resumed.engine.windowsClosed == full.engine.windowsClosed)
            #expect(resumed.engine.sourceNames == ["test"])
            if k == m5Return - 1 || k == m5Return {
                // The 26-hour gap is still ahead: its meter_gap and late_span come from the restored engine.
                #expect(want.anomalies.contains { $0.hasPrefix("meterGap 5 ") } && want.lateSpans.contains { $0.hasPrefix("5 ") })
            }
            if k == longInterval {
                #expect(want.lateSpans.contains { $0.hasPrefix("13 ") })
            }
        }
    }

    /// A checkpoint taken after `finish()`, and one of a fresh engine, restore and checkpoint the same.
    @Test func edgeStatesRoundTrip() throws {
        let (registry, lines) = Self.scenario()
        let h = Harness(registry: registry)
        let fresh = h.engine.checkpoint()
        let r0 = Harness(registry: registry)
        try r0.engine.restore(from: fresh)
        let sameFresh = r0.engine.checkpoint() == fresh
        #expect(sameFresh)
        Self.feed(h.engine, lines, 0..<2000)
        h.engine.finish()
        let done = h.engine.checkpoint()
        let r1 = Harness(registry: registry)
        try r1.engine.restore(from: done)
        let sameDone = r1.engine.checkpoint() == done
        #expect(sameDone)
        #expect(r1.engine.watermark == Time.distantFuture)

        // No meters at all: only the factor feeds are state.
        let empty = Harness(registry: "meter_id,region,city,park,enterprise,industry,max_kw\n")
        empty.feed(["f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,0.5", "m,CN-YN,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,hydro,10"], finish: false)
        let e = empty.engine.checkpoint()
        let r2 = Harness(registry: "meter_id,region,city,park,enterprise,industry,max_kw\n")
        try r2.engine.restore(from: e)
        let sameEmpty = r2.engine.checkpoint() == e
        #expect(sameEmpty)
        #expect(r2.engine.factors.snapshot(region: Region.index(of: "CN-GD")!).factors.count == 1)
        #expect(r2.engine.factors.snapshot(region: Region.index(of: "CN-YN")!).mixes.count == 1)
        #expect(r2.engine.counts.accepted == 2)
    }

    // MARK: Refusals

    static func sample() -> (registry: String, bytes: [UInt8]) {
        let (registry, lines) = scenario()
        let h = Harness(registry: registry)
        feed(h.engine, lines, 0..<(lines.count / 3))
        return (registry, h.engine.checkpoint())
    }

    /// Recomputes the header CRC after a deliberate edit (so the structure checks are reached).
    static func resealed(_ b: [UInt8]) -> [UInt8] {
        var b = b
        var crc = b.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<24])) }
        crc = b.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[32...]), seed: crc) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { b[24 + i] = $0[i] } }
        return b
    }

    static func error(_ registry: String, settings: EngineSettings = EngineSettings(), _ bytes: [UInt8]) -> CheckpointError? {
        let h = Harness(registry: registry, settings: settings)
        do {
            try h.engine.restore(from: bytes)
            return nil
        } catch let e as CheckpointError {
            // A refused checkpoint leaves the engine fresh.
            #expect(h.engine.notFreshReason() == nil)
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func streamedCheckpointEqualsTheBufferedOne() throws {
        let (registry, lines) = Self.scenario()
        let h = Harness(registry: registry)
        var rule = AlertRule(name: "hot", kind: .intensity)
        rule.threshold = 0.3
        h.engine.configureAlerts(AlertSettings(rules: [rule]))
        h.feed(Array(lines.prefix(lines.count / 2)), finish: false)
        var streamed: [UInt8] = []
        var chunks = 0
        try h.engine.checkpoint { streamed.append(contentsOf: $0); chunks += 1 }
        #expect(streamed == h.engine.checkpoint())
        #expect(chunks >= 2)
        struct Full: Error {}
        #expect(throws: Full.self) { try h.engine.checkpoint { _ in throw Full() } }
    }

    @Test func truncatedCheckpointIsRefused() throws {
        let (registry, bytes) = Self.sample()
        for n in [0, 4, 8, 20, 31, 32, 40, 100, bytes.count / 2, bytes.count - 8, bytes.count - 1] {
            let e = Self.error(registry, Array(bytes.prefix(n)))
            #expect(e != nil, "\(n) bytes")
            if n > 8, case .corrupt(let why)? = e { #expect(why.contains("truncated"), "\(why)") }
        }
        #expect(Self.error(registry, bytes + [0]) != nil)
        // A refused attempt leaves the engine usable: the good checkpoint then restores into it.
        let h = Harness(registry: registry)
        #expect(throws: CheckpointError.self) { try h.engine.restore(from: Array(bytes.prefix(bytes.count / 2))) }
        try h.engine.restore(from: bytes)
        let same = h.engine.checkpoint() == bytes
        #expect(same)
    }

    @Test func bitFlipsAreRefused() {
        let (registry, bytes) = Self.sample()
        var rng = SplitMix(seed: 9)
        let positions = Array(0..<(EngineCheckpointFormat.headerSize * 8)) + (0..<300).map { _ in Int(rng.next() % UInt64(bytes.count * 8)) }
        for bit in positions {
            var b = bytes
            b[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            #expect(Self.error(registry, b) != nil, "bit \(bit)")
        }
        var v = bytes
        v[8] = 1
        #expect(Self.error(registry, v) == .unsupportedVersion(1))
        var m = bytes
        m[0] = UInt8(ascii: "X")
        #expect(Self.error(registry, m) == .notACheckpoint)
    }

    /// Edits behind a valid CRC (a writer bug, or a collision) throw or restore, never crash.
    @Test func structuralDamageBehindAValidCRCNeverCrashes() {
        let (registry, bytes) = Self.sample()
        var rng = SplitMix(seed: 13)
        var refused = 0
        for round in 0..<300 {
            var b = bytes
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits {
                let i = 32 + Int(rng.next() % UInt64(b.count - 32))
                // Mostly huge or negative counts and indices; sometimes a random byte.
                if round % 3 == 0 { b[i] = UInt8(truncatingIfNeeded: rng.next()) } else { b[i] ^= 0x80 }
            }
            if Self.error(registry, Self.resealed(b)) != nil { refused += 1 }
        }
        #expect(refused > 0)
        // A section tag out of place names the section.
        var t = bytes
        t[32] ^= 1
        if case .corrupt(let why)? = Self.error(registry, Self.resealed(t)) { #expect(why.contains("SETG")) } else { Issue.record("not refused") }
    }

    @Test func otherRegistryIsRefusedWithTheDifference() {
        let (registry, bytes) = Self.sample()
        var rows = registry.split(separator: "\n").map(String.init)

        let fewer = rows.dropLast().joined(separator: "\n")
        guard case .configurationMismatch(let a)? = Self.error(fewer, bytes) else { Issue.record("fewer meters accepted"); return }
        #expect(a.contains("40 meters in the checkpoint, 39 here"), "\(a)")

        var renamed = rows
        renamed[3] = renamed[3].replacingFirst("M2,", with: "X2,")
        guard case .configurationMismatch(let b)? = Self.error(renamed.joined(separator: "\n"), bytes) else { Issue.record("renamed meter accepted"); return }
        #expect(b.contains("meter ids differ"), "\(b)")

        var swapped = rows
        swapped.swapAt(1, 2)
        guard case .configurationMismatch(let c)? = Self.error(swapped.joined(separator: "\n"), bytes) else { Issue.record("reordered registry accepted"); return }
        #expect(c.contains("meter ids differ"), "\(c)")

        // M1 moves to another enterprise that exists already: same profile count, other keys.
        rows[2] = rows[2].replacingFirst(",E1,", with: ",E2,")
        guard case .configurationMismatch(let d)? = Self.error(rows.joined(separator: "\n"), bytes) else { Issue.record("moved meter accepted"); return }
        #expect(d.contains("keys") || d.contains("profiles"), "\(d)")
    }

    @Test func otherSettingsAreRefusedWithTheDifference() {
        let (registry, bytes) = Self.sample()
        var s = EngineSettings()
        s.reorderWindow = 30 * Time.microsPerMinute
        guard case .configurationMismatch(let a)? = Self.error(registry, settings: s, bytes) else { Issue.record("accepted"); return }
        #expect(a.contains("reorder_window 15m in the checkpoint, 30m here"), "\(a)")

        var w = EngineSettings()
        w.windows = [15 * Time.microsPerMinute, Time.microsPerHour]
        w.zone = .utc
        guard case .configurationMismatch(let b)? = Self.error(registry, settings: w, bytes) else { Issue.record("accepted"); return }
        #expect(b.contains("windows 15m,1h,1d in the checkpoint, 15m,1h here"), "\(b)")
        #expect(b.contains("zone offset +08:00 in the checkpoint, +00:00 here"), "\(b)")

        var l = EngineSettings()
        l.levels = Level.allCases
        guard case .configurationMismatch(let c)? = Self.error(registry, settings: l, bytes) else { Issue.record("accepted"); return }
        #expect(c.contains("levels"), "\(c)")
    }

    @Test func onlyAFreshEngineRestores() {
        let (registry, bytes) = Self.sample()
        let used = Harness(registry: registry).feed(["r,M1,2026-11-18T10:00:00+08:00,1"], finish: false)
        #expect(throws: CheckpointError.self) { try used.engine.restore(from: bytes) }
        let named = Harness(registry: registry)
        _ = named.engine.source(named: "tcp:1")
        do {
            try named.engine.restore(from: bytes)
            Issue.record("restored into an engine with a source")
        } catch {
            #expect("\(error)".contains("fresh"), "\(error)")
        }
        let restored = Harness(registry: registry)
        #expect(throws: Never.self) { try restored.engine.restore(from: bytes) }
        #expect(throws: CheckpointError.self) { try restored.engine.restore(from: bytes) }
    }
}

private extension String {
    func replacingFirst(_ a: String, with b: String) -> String {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(a) { return String(self[..<i]) + b + String(self[index(i, offsetBy: a.count)...]) }
            i = index(after: i)
        }
        return self
    }
}
