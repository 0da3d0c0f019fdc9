import Testing
import GridCarbonEngine
import GridCarbonModel
@testable import GridCarbonSimulate

/// A simulated run, split into lines and parsed by the engine's own parser.
private struct SimRun {
    let sim: Simulator
    let registry: Registry
    let registryBytes: [UInt8]
    let records: [UInt8]
    let summary: SimulationSummary
    /// Lines in file order (without the newline).
    let lines: [ArraySlice<UInt8>]

    init(_ configure: (inout SimulationOptions) -> Void) throws {
        var o = SimulationOptions(startDay: Time.daysFromCivil(year: 2026, month: 11, day: 18))  // a Wednesday
        o.meters = 300
        configure(&o)
        sim = try Simulator(options: o)
        registryBytes = sim.registryCSV()
        registry = try Registry(csv: registryBytes, origin: "simulated")
        (records, summary) = sim.records()
        lines = records.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { $0 }
    }

    struct Parsed {
        var index: Int
        var record: ParsedRecord
    }

    /// Every line through the engine's parser: the records that parse, and the reasons of the rest.
    func parse() -> (records: [Parsed], rejected: [RejectReason]) {
        let parser = LineParser(registry: registry)
        var ok: [Parsed] = []
        var bad: [RejectReason] = []
        var rec = ParsedRecord()
        for (i, line) in lines.enumerated() {
            let outcome = line.withUnsafeBytes { parser.parse($0, into: &rec) }
            switch outcome {
            case .record: ok.append(Parsed(index: i, record: rec))
            case .rejected(let r): bad.append(r)
            case .skip: Issue.record("line \(i + 1) skipped: \(String(decoding: line, as: UTF8.self))")
            }
        }
        return (ok, bad)
    }

    /// Register readings per meter, sorted by time: (ts, kWh).
    func readings() -> [Int32: [(Micros, Double)]] {
        var out: [Int32: [(Micros, Double)]] = [:]
        for p in parse().records where p.record.kind == .register {
            out[p.record.meter, default: []].append((p.record.t0, p.record.value))
        }
        return out.mapValues { $0.sorted { $0.0 < $1.0 } }
    }
}

private func text(_ s: ArraySlice<UInt8>) -> String { String(decoding: s, as: UTF8.self) }

@Suite struct SimulateTests {
    @Test func sameSeedSameBytes() throws {
        let configure: (inout SimulationOptions) -> Void = {
            $0.meters = 200; $0.disorder = 300 * Time.microsPerSecond; $0.jitter = 20 * Time.microsPerSecond
            $0.duplicates = 0.01; $0.resets = 0.001; $0.gaps = 0.001; $0.badLines = 0.005
            $0.intervalShare = 0.2; $0.mixedTimestamps = true
        }
        let a = try SimRun(configure)
        let b = try SimRun(configure)
        #expect(a.registryBytes == b.registryBytes)
        #expect(a.records == b.records)
        #expect(a.summary == b.summary)
        let c = try SimRun { configure(&$0); $0.seed = 43 }
        #expect(c.registryBytes != a.registryBytes)
        #expect(c.records != a.records)
        // The registry depends only on the seed and the meter count.
        let d = try SimRun { $0.meters = 200; $0.days = 2; $0.format = .ndjson }
        #expect(d.registryBytes == a.registryBytes)
    }

    @Test func registryCoversEveryProvince() throws {
        let run = try SimRun { $0.meters = 3000; $0.days = 1; $0.interval = Time.microsPerDay / 4 }
        let reg = run.registry
        #expect(reg.count == 3000)
        let regions = (0..<reg.count).map { reg.region(of: $0) }
        #expect(Set(regions) == Set(Region.provinces))
        // Weighted by consumption: Guangdong far above Tibet.
        let gd = regions.filter { $0 == Region.index(of: "CN-GD")! }.count
        let xz = regions.filter { $0 == Region.index(of: "CN-XZ")! }.count
        #expect(gd > 150 && xz >= 1 && xz < 15)
        // Cities, parks and enterprises in the expected spellings, about half the meters in a park.
        let rows = run.registryBytes.split(separator: 0x0A).dropFirst().map { $0.split(separator: 0x2C, omittingEmptySubsequences: false).map(text) }
        var inPark = 0
        var enterpriseSizes: [String: Int] = [:]
        for f in rows {
            #expect(f.count == 7)
            #expect(f[0].hasPrefix("M") && f[0].count == 7)
            #expect(f[2].hasPrefix(f[1] + "-C") && f[2].count == f[1].count + 4)
            if !f[3].isEmpty { inPark += 1; #expect(f[3].hasPrefix(f[1] + "-P")) }
            if !f[4].isEmpty { enterpriseSizes[f[4], default: 0] += 1; #expect(f[4].hasPrefix("E") && f[4].count == 7) }
            #expect(Industry(code: f[5]) != nil)
            if !f[6].isEmpty { #expect(Double(f[6])! > 0) }
        }
        let share = Double(inPark) / 3000
        #expect(share > 0.3 && share < 0.7)
        let sizes = enterpriseSizes.values.sorted()
        #expect(sizes[sizes.count / 2] >= 10 && sizes[sizes.count / 2] <= 40)
        let withEnterprise = enterpriseSizes.values.reduce(0, +)
        #expect(withEnterprise > 2700 && withEnterprise < 3000)
        let withMax = rows.filter { !$0[6].isEmpty }.count
        #expect(withMax > 2500 && withMax < 3000)
        #expect(Set(rows.map { $0[5] }).count == Industry.allCases.count)
    }

    @Test func everyLineParsesAndNamesARegisteredMeter() throws {
        let run = try SimRun { $0.intervalShare = 0.3 }
        let (records, rejected) = run.parse()
        #expect(rejected.isEmpty)
        #expect(records.count == run.lines.count)
        #expect(run.summary.lines == run.lines.count)
        #expect(run.summary.readings == 300 * 96)
        var kinds: [RecordKind: Int] = [:]
        for p in records {
            kinds[p.record.kind, default: 0] += 1
            switch p.record.kind {
            case .register, .interval:
                #expect(p.record.meter >= 0 && Int(p.record.meter) < run.registry.count)
            case .factor:
                #expect(p.record.value >= 0.3 && p.record.value <= 0.9)
                #expect(p.record.t1 - p.record.t0 == Time.microsPerHour)
            case .mix:
                #expect(p.record.value >= 0)
                let hour = (p.record.t0 / Time.microsPerSecond + 8 * 3600) / 3600 % 24
                if p.record.source == .solar && (hour < 6 || hour >= 18) { #expect(p.record.value == 0) }
                if p.record.source == .solar && hour == 12 { #expect(p.record.value > 0) }
            case .exchange, .output, .contract:
                Issue.record("simulate writes no x, o or c records yet (reference §9.1)")
            }
        }
        #expect(kinds[.interval]! > 50 * 96 && kinds[.register]! > 150 * 96)
        #expect(kinds[.factor] == 24 * 4 && kinds[.mix] == 24 * 4 * 5)
        #expect(run.summary.factorLines == 24 * 4 * 6)
        // Meter ids are exactly the registry's.
        let ids = Set(records.filter { $0.record.kind == .register || $0.record.kind == .interval }.map(\.record.meter))
        #expect(ids.count == 300)
    }

    @Test func ndjsonCarriesTheSameRecords() throws {
        let csv = try SimRun { $0.meters = 100; $0.intervalShare = 0.2; $0.disorder = 120 * Time.microsPerSecond }
        let json = try SimRun { $0.meters = 100; $0.intervalShare = 0.2; $0.disorder = 120 * Time.microsPerSecond; $0.format = .ndjson }
        #expect(json.lines.allSatisfy { $0.first == 0x7B && $0.last == 0x7D })
        let a = csv.parse(), b = json.parse()
        #expect(a.rejected.isEmpty && b.rejected.isEmpty)
        #expect(a.records.count == b.records.count)
        for (x, y) in zip(a.records, b.records) {
            #expect(x.record.kind == y.record.kind && x.record.meter == y.record.meter && x.record.region == y.record.region)
            #expect(x.record.t0 == y.record.t0 && x.record.t1 == y.record.t1 && x.record.value == y.record.value)
        }
    }

    @Test func readingsIncreaseExceptInjectedResets() throws {
        let run = try SimRun {
            $0.meters = 400; $0.days = 2; $0.resets = 0.002; $0.jitter = 45 * Time.microsPerSecond
            $0.disorder = 600 * Time.microsPerSecond; $0.gaps = 0.001
        }
        #expect(run.summary.resets > 50)
        var decreases = 0
        var implausible = 0
        for (m, rs) in run.readings() {
            let maxKW = run.registry.maxKW(of: Int(m))
            for (p, q) in zip(rs, rs.dropFirst()) {
                #expect(q.0 > p.0)
                if q.1 < p.1 { decreases += 1; continue }
                let kw = (q.1 - p.1) / (Double(q.0 - p.0) / Double(Time.microsPerHour))
                if kw > maxKW { implausible += 1 }
            }
        }
        #expect(decreases == run.summary.resets)
        #expect(implausible == 0)
    }

    @Test func gapsSilenceMetersWhileTheRegisterRuns() throws {
        let run = try SimRun { $0.meters = 200; $0.gaps = 0.002 }
        #expect(run.summary.gaps > 10)
        var longGaps = 0
        for (m, rs) in run.readings() {
            for (p, q) in zip(rs, rs.dropFirst()) where q.0 - p.0 > Time.microsPerHour {
                longGaps += 1
                #expect(q.0 - p.0 <= 6 * Time.microsPerHour + 15 * Time.microsPerMinute)
                let kwh = q.1 - p.1
                #expect(kwh > 0)
                #expect(kwh / (Double(q.0 - p.0) / Double(Time.microsPerHour)) <= run.registry.maxKW(of: Int(m)))
            }
        }
        #expect(longGaps > 0)
    }

    @Test func disorderStaysInsideTheBound() throws {
        for seconds in [0, 1, 240, 899] {
            let run = try SimRun {
                $0.meters = 150; $0.disorder = Int64(seconds) * Time.microsPerSecond
                $0.jitter = seconds == 0 ? 0 : 50 * Time.microsPerSecond; $0.intervalShare = 0.3; $0.duplicates = 0.01
            }
            // Lag of a record: the latest event time written before it minus its own. The engine
            // calls a record late when that reaches its 15-minute reorder window.
            var high = Time.distantPast
            var worst: Micros = 0
            var behind = 0, total = 0
            for p in run.parse().records where p.record.kind == .register || p.record.kind == .interval {
                let event = p.record.kind == .register ? p.record.t0 : p.record.t1
                high = max(high, event)
                worst = max(worst, high - event)
                if high > event { behind += 1 }
                total += 1
            }
            if seconds == 0 {
                #expect(worst == 0)
            } else {
                #expect(worst < Int64(seconds) * Time.microsPerSecond)
            }
            if seconds >= 240 { #expect(behind > total / 4) }
            // Delays beyond the spread of a step carry records past the next step's readings.
            if seconds == 899 { #expect(worst > 600 * Time.microsPerSecond) }
        }
    }

    @Test func duplicatesRepeatAFewLinesLater() throws {
        let run = try SimRun { $0.meters = 200; $0.duplicates = 0.01 }
        var seen: [ArraySlice<UInt8>: Int] = [:]
        var repeats = 0
        var farthest = 0
        for (i, line) in run.lines.enumerated() {
            if let j = seen[line] {
                repeats += 1
                farthest = max(farthest, i - j)
            } else {
                seen[line] = i
            }
        }
        #expect(repeats == run.summary.duplicates)
        #expect(repeats > 100 && repeats < 300)
        #expect(farthest <= 300)
    }

    @Test func badLinesAreRejectedAtTheRate() throws {
        for format in RecordFormat.allCases {
            let run = try SimRun { $0.meters = 500; $0.badLines = 0.01; $0.format = format; $0.intervalShare = 0.2 }
            let expected = 0.01 * Double(run.summary.readings)
            #expect(Double(run.summary.badLines) > expected * 0.8 && Double(run.summary.badLines) < expected * 1.2)
            let (records, rejected) = run.parse()
            #expect(rejected.count == run.summary.badLines)
            #expect(records.count == run.summary.readings + run.summary.factorLines)
            let reasons = Set(rejected)
            for r in [RejectReason.unknownMeter, .badTimestamp, .badFieldCount] { #expect(reasons.contains(r)) }
            #expect(reasons.contains(.badKind) || reasons.contains(.badJSON))
            #expect(reasons.contains(.badNumber))
            // No line is blank or a comment: every injected line counts as rejected.
            #expect(run.lines.allSatisfy { !$0.isEmpty && $0.first != 0x23 && !$0.contains(0x0D) })
        }
    }

    @Test func loadShapesDifferByIndustry() throws {
        let run = try SimRun { $0.meters = 1000; $0.days = 4 }  // Wed 18 .. Sat 21 November 2026
        let industryOf = run.registryBytes.split(separator: 0x0A).dropFirst().map { row -> String in
            text(row.split(separator: 0x2C, omittingEmptySubsequences: false)[5])
        }
        let base = run.sim.options.start
        let readings = run.readings()
        /// Energy of an industry's meters over [day + hh:00, day + hh:15).
        func energy(_ codes: Set<String>, day: Int, hour: Int) -> Double {
            let a = base + Int64(day) * Time.microsPerDay + Int64(hour) * Time.microsPerHour
            let b = a + 15 * Time.microsPerMinute
            var sum = 0.0
            for (m, rs) in readings where codes.contains(industryOf[Int(m)]) {
                if let x = rs.first(where: { $0.0 == a }), let y = rs.first(where: { $0.0 == b }) { sum += y.1 - x.1 }
            }
            return sum
        }
        let office: Set = ["K", "L"]
        #expect(energy(office, day: 0, hour: 3) < 0.3 * energy(office, day: 0, hour: 11))
        #expect(energy(office, day: 3, hour: 11) < 0.4 * energy(office, day: 0, hour: 11))  // Saturday
        #expect(energy(["I"], day: 0, hour: 3) > 0.85 * energy(["I"], day: 0, hour: 11))
        #expect(energy(["C"], day: 0, hour: 3) > 0.75 * energy(["C"], day: 0, hour: 11))
        #expect(energy(["C"], day: 0, hour: 12) < energy(["C"], day: 0, hour: 10))
        #expect(energy(["H"], day: 0, hour: 18) > 2 * energy(["H"], day: 0, hour: 3))
        #expect(energy(["G"], day: 0, hour: 8) > 1.3 * energy(["G"], day: 0, hour: 13))
        #expect(energy(["F"], day: 0, hour: 15) > 3 * energy(["F"], day: 0, hour: 4))
    }

    @Test func mixedTimestampsUseEverySpelling() throws {
        let run = try SimRun { $0.meters = 100; $0.mixedTimestamps = true }
        let all = run.lines.map(text)
        let unix = all.filter { $0.hasPrefix("r,") && !$0.contains("T") }.count
        let utc = all.filter { $0.contains("Z,") }.count
        let local = all.filter { $0.contains("+08:00") }.count
        #expect(unix > 500 && utc > 500 && local > 5000)
        #expect(run.parse().rejected.isEmpty)
    }

    /// The reason ``SimulationOptions/validate()`` gives, or nil when the options are valid.
    func problem(_ o: SimulationOptions) -> String? {
        do { try o.validate(); return nil } catch { return error.message }
    }

    @Test func optionsAreValidated() {
        var o = SimulationOptions(startDay: 20_000)
        #expect(problem(o) == nil)
        o.disorder = 900 * Time.microsPerSecond
        #expect(problem(o)?.contains("900") == true)
        o.disorder = 899 * Time.microsPerSecond
        #expect(problem(o) == nil)
        o.jitter = o.interval
        #expect(problem(o)?.contains("--jitter") == true)
        o.jitter = 0
        o.interval = 7 * Time.microsPerMinute
        #expect(problem(o)?.contains("--interval") == true)
        o.interval = 15 * Time.microsPerMinute
        o.duplicates = 1.5
        #expect(problem(o)?.contains("--duplicates") == true)
        o.duplicates = 0
        o.meters = 0
        #expect(problem(o)?.contains("--meters") == true)
        #expect(throws: SimulationError.self) { try Simulator(options: o) }
        #expect(SimulationOptions.parseDate("2026-11-18") == Time.daysFromCivil(year: 2026, month: 11, day: 18))
        #expect(SimulationOptions.parseDate("2026-02-30") == nil)
        #expect(SimulationOptions.parseDate("18/11/2026") == nil)
    }

    @Test func provinceQuotasFollowConsumption() {
        for n in [1, 30, 31, 1000, 100_000] {
            let q = Fleet.quotas(meters: n)
            #expect(q.reduce(0, +) == n)
            if n >= 31 { #expect(Region.provinces.allSatisfy { q[$0] >= 1 }) }
        }
        let q = Fleet.quotas(meters: 100_000)
        let gd = q[Region.index(of: "CN-GD")!], xz = q[Region.index(of: "CN-XZ")!], hi = q[Region.index(of: "CN-HI")!]
        #expect(gd > 50 * xz && gd > 10 * hi)
    }
}

/// `--profile realistic` (issue 10): what a head-end system forwards, not the order that suits a
/// reader.
@Suite struct SimulateRealisticProfileTests {
    fileprivate static func realistic(_ configure: (inout SimulationOptions) -> Void = { _ in }) throws -> SimRun {
        try SimRun {
            $0.meters = 3000
            $0.interval = Time.microsPerHour
            $0.apply(.realistic)
            configure(&$0)
        }
    }

    /// Meter records (`r`, `i`) in file order: registry index and event time (`ts`, or `end`).
    fileprivate static func meterRecords(_ run: SimRun) -> [(meter: Int32, event: Micros)] {
        run.parse().records.compactMap { p in
            switch p.record.kind {
            case .register: (p.record.meter, p.record.t0)
            case .interval: (p.record.meter, p.record.t1)
            default: nil
            }
        }
    }

    @Test func theIdealProfileChangesNothing() {
        var o = SimulationOptions(startDay: 20_000)
        let before = o
        o.apply(.ideal)
        #expect(o == before)
        o.apply(.realistic)
        #expect(o.collectorOrder && o.meterIDShapes && o.mixedTimestamps && o.jitter == 90 * Time.microsPerSecond)
        #expect(o.intervalShare == 0.1 && o.duplicates > 0 && o.badLines > 0)
        // A 1-minute interval: jitter stays inside it.
        var short = SimulationOptions(startDay: 20_000)
        short.interval = Time.microsPerMinute
        short.apply(.realistic)
        #expect(short.jitter == 30 * Time.microsPerSecond)
        #expect(throws: Never.self) { try short.validate() }
    }

    @Test func metersArriveInCollectorOrderNotRegistryOrder() throws {
        let real = Self.meterRecords(try Self.realistic())
        let ideal = Self.meterRecords(try SimRun { $0.meters = 3000; $0.interval = Time.microsPerHour })
        func followOn(_ r: [(meter: Int32, event: Micros)]) -> Double {
            var n = 0
            for (a, b) in zip(r, r.dropFirst()) where b.meter == a.meter + 1 { n += 1 }
            return Double(n) / Double(max(1, r.count - 1))
        }
        // In registry order nearly every record is the next meter's; in collector order almost none.
        #expect(followOn(ideal) > 0.9)
        #expect(followOn(real) < 0.02, "\(followOn(real))")
        // Real disorder, yet inside the engine's 15-minute reorder window: nothing would be late.
        var high = Time.distantPast, worst: Micros = 0, behind = 0
        for r in real {
            high = max(high, r.event)
            worst = max(worst, high - r.event)
            if high > r.event { behind += 1 }
        }
        #expect(behind > real.count / 4)
        // Clocks up to 90 s late: records arrive behind later readings by up to about that.
        #expect(worst > 60 * Time.microsPerSecond && worst < SimulationOptions.reorderWindow, "\(worst)")
    }

    @Test func concentratorsServeMetersFromAnywhereWithOneSpelling() {
        let c = Collectors(meters: 10_000, seed: 42, intervalSeconds: 900, mixedStyles: true)
        #expect(Set(c.order).count == 10_000 && c.order.count == 10_000)
        #expect(c.count >= 10_000 / 256 && c.count <= 10_000 / 32 + 1)
        #expect(c.delay.allSatisfy { $0 >= 5 && Int($0) <= Collectors.maxDelay(intervalSeconds: 900) })
        // Walk the concentrators (runs of meters whose delays climb by at most one second): each
        // speaks one spelling, and the three spellings are all in use.
        var spellings: Set<UInt8> = []
        var start = 0
        for k in 1...c.order.count {
            let boundary = k == c.order.count || {
                let a = c.delay[Int(c.order[k - 1])], b = c.delay[Int(c.order[k])]
                return b < a || b > a + 1 || c.style[Int(c.order[k])] != c.style[Int(c.order[k - 1])]
            }()
            if boundary {
                spellings.insert(c.style[Int(c.order[start])])
                start = k
            }
        }
        #expect(spellings == [0, 1, 2])
        let plain = Collectors(meters: 1000, seed: 42, intervalSeconds: 900, mixedStyles: false)
        #expect(plain.style.allSatisfy { $0 == 0 })
    }

    @Test func idsComeInSeveralRealShapes() throws {
        let run = try Self.realistic { $0.days = 1; $0.interval = Time.microsPerDay / 4 }
        let ids = (0..<run.registry.count).map { run.registry.meterID($0) }
        #expect(Set(ids).count == 3000)
        let serial = ids.filter { $0.hasPrefix("M") && $0.count == 8 }.count
        let stateGrid = ids.filter { $0.hasPrefix("SG.") && $0.split(separator: ".").count == 3 }.count
        let port = ids.filter { $0.contains(":") && $0.contains("-com_") }.count
        #expect(serial + stateGrid + port == 3000)
        #expect(serial > 1200 && stateGrid > 700 && port > 400, "\(serial) \(stateGrid) \(port)")
        // The State Grid prefix is the meter's province (GB/T 2260: Guangdong 44).
        for i in 0..<run.registry.count where ids[i].hasPrefix("SG.44.") {
            #expect(Region.codes[run.registry.region(of: i)] == "CN-GD")
        }
        // The same fleet as the ideal profile's: only the spelling of the ids differs.
        let ideal = try SimRun { $0.meters = 3000; $0.interval = Time.microsPerDay / 4 }
        #expect((0..<3000).allSatisfy { ideal.registry.region(of: $0) == run.registry.region(of: $0) })
    }

    @Test func everyLineButTheInjectedBadOnesParses() throws {
        let run = try Self.realistic()
        let (records, rejected) = run.parse()
        #expect(rejected.count == run.summary.badLines)
        #expect(records.count + rejected.count == run.lines.count)
        #expect(run.summary.intervalMeters > 200 && run.summary.duplicates > 0)
        let all = run.lines.map(text)
        #expect(all.contains { $0.hasPrefix("r,") && $0.contains("Z,") })
        #expect(all.contains { $0.hasPrefix("r,") && !$0.contains("T") })
        let a = try Self.realistic(), b = try Self.realistic()
        #expect(a.records == b.records && a.registryBytes == b.registryBytes)
    }
}
