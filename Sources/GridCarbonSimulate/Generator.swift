import GridCarbonModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The record generator behind ``Simulator/writeRecords(to:)``.
///
/// Time order in, arrival order out: for each interval, for each meter, a record is made and put
/// in `pending` with its arrival time; at the end of the interval every pending record that
/// arrives before the next interval starts (nothing generated later can arrive earlier) is
/// counting-sorted by arrival second — stably, so equal arrivals keep their generation order —
/// and written. Memory is O(meters). A value type with mutating methods, so the hot loop runs
/// on raw pointers without runtime exclusivity checks.
struct RecordGenerator {
    private let o: SimulationOptions
    private let meters: Int
    private let stepSec: Int64
    private let startSec: Int64
    private let steps: Int
    private let jitter: Int
    private let disorder: Int
    private let hours: Double
    private let offset: Int64
    private let ndjson: Bool
    private let mixed: Bool
    private var rng: SimRandom
    private let dupT: UInt64, resetT: UInt64, gapT: UInt64, badT: UInt64
    private(set) var summary = SimulationSummary()

    // Meter state.
    private let kw: UnsafeMutablePointer<Double>
    private let ind: UnsafeMutablePointer<UInt8>
    private let isInterval: UnsafeMutablePointer<Bool>
    /// Register at the start of the current interval, cents of kWh.
    private let reg: UnsafeMutablePointer<Int64>
    /// Last reading written, cents (-1 before the first).
    private let last: UnsafeMutablePointer<Int64>
    private let silentUntil: UnsafeMutablePointer<Int32>
    private let noise: UnsafeMutablePointer<Double>
    /// Meter ids back to back; meter `m`'s is `ids[idStart[m] ..< idStart[m + 1]]`.
    private let ids: UnsafeMutablePointer<UInt8>
    private let idStart: UnsafeMutablePointer<Int32>
    /// Meters in generation order (``Collectors/order``, or registry order).
    private let order: UnsafeMutablePointer<Int32>
    /// Seconds from reading to arrival per meter (``Collectors/delay``; 0 in registry order).
    private let delay: UnsafeMutablePointer<Int32>
    /// Timestamp spelling per meter (``Collectors/style``), used in collector order.
    private let meterStyle: UnsafeMutablePointer<UInt8>
    private let collectorOrder: Bool

    private let regionCodes: UnsafeMutablePointer<UInt8>
    private let sourceNames: [[UInt8]]
    private let industries = Industry.allCases
    private let shapeNow: UnsafeMutablePointer<Double>
    private let fRegions: [Int32]
    private let mRegions: [Int32]
    private var wind: [Double]

    private var w: LineWriter
    private var pending: RecBuffer
    private var due: RecBuffer
    private var sorted: RecBuffer
    private var counts: UnsafeMutablePointer<Int32>
    private var countsCapacity: Int
    /// Duplicates wait for a few more lines before they join `pending`.
    private var held: [(release: Int, rec: Rec)] = []
    private var appended = 0

    init(options: SimulationOptions, fleet: Fleet, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        o = options
        meters = fleet.count
        stepSec = o.interval / Time.microsPerSecond
        startSec = o.start / Time.microsPerSecond
        steps = o.steps
        jitter = Int(o.jitter / Time.microsPerSecond)
        disorder = Int(o.disorder / Time.microsPerSecond)
        hours = Double(stepSec) / 3600
        offset = Int64(o.zone.offsetSeconds)
        ndjson = o.format == .ndjson
        mixed = o.mixedTimestamps
        rng = SimRandom(seed: o.seed ^ 0x7265_636F_7264_7321)  // "records!"
        dupT = SimRandom.threshold(o.duplicates)
        resetT = SimRandom.threshold(o.resets)
        gapT = SimRandom.threshold(o.gaps)
        badT = SimRandom.threshold(o.badLines)
        summary.meters = meters
        summary.enterprises = fleet.enterprises

        kw = .allocate(capacity: meters)
        ind = .allocate(capacity: meters)
        isInterval = .allocate(capacity: meters)
        reg = .allocate(capacity: meters)
        last = .allocate(capacity: meters)
        silentUntil = .allocate(capacity: meters)
        noise = .allocate(capacity: meters)
        collectorOrder = o.collectorOrder
        order = .allocate(capacity: meters)
        delay = .allocate(capacity: meters)
        meterStyle = .allocate(capacity: meters)
        if o.collectorOrder {
            let c = Collectors(meters: meters, seed: o.seed, intervalSeconds: Int(stepSec), mixedStyles: o.mixedTimestamps)
            order.initialize(from: c.order, count: meters)
            delay.initialize(from: c.delay, count: meters)
            meterStyle.initialize(from: c.style, count: meters)
        } else {
            for m in 0..<meters { order[m] = Int32(m) }
            delay.initialize(repeating: 0, count: meters)
            meterStyle.initialize(repeating: 0, count: meters)
        }
        var idBuffer: [UInt8] = []
        idBuffer.reserveCapacity(meters * (2 + fleet.idWidth))
        idStart = .allocate(capacity: meters + 1)
        for m in 0..<meters {
            idStart[m] = Int32(idBuffer.count)
            fleet.appendMeterID(m, to: &idBuffer)
        }
        idStart[meters] = Int32(idBuffer.count)
        ids = .allocate(capacity: max(1, idBuffer.count))
        ids.initialize(from: idBuffer, count: idBuffer.count)
        let intervalT = SimRandom.threshold(o.intervalShare)
        for m in 0..<meters {
            kw[m] = fleet.typicalKW[m]
            ind[m] = fleet.industry[m]
            isInterval[m] = rng.chance(intervalT)
            if isInterval[m] { summary.intervalMeters += 1 }
            // A register that has been counting for 200–20,000 full-load hours.
            reg[m] = Int64(kw[m] * rng.uniform(200, 20_000) * 100)
            last[m] = -1
            silentUntil[m] = 0
            noise[m] = rng.uniform(-0.1, 0.1)
        }
        regionCodes = .allocate(capacity: Region.count * 5)
        for (i, c) in Region.codes.enumerated() {
            let u = Array((c + "   ").utf8.prefix(5))
            (regionCodes + i * 5).initialize(from: u, count: 5)
        }
        sourceNames = Source.allCases.map { Array($0.name.utf8) }
        shapeNow = .allocate(capacity: Industry.allCases.count)
        fRegions = Simulator.factorProvinces.map { Int32(Region.index(of: $0.0)!) }
        mRegions = Simulator.mixProvinces.map { Int32(Region.index(of: $0.0)!) }
        wind = Array(repeating: 1.0, count: mRegions.count)

        w = LineWriter(zone: o.zone, sink: sink)
        pending = RecBuffer(capacity: meters + meters / 2 + 1024)
        due = RecBuffer(capacity: pending.capacity)
        sorted = RecBuffer(capacity: pending.capacity)
        countsCapacity = Int(stepSec) + 2
        counts = .allocate(capacity: countsCapacity)
    }

    func free() {
        kw.deallocate(); ind.deallocate(); isInterval.deallocate(); reg.deallocate(); last.deallocate()
        silentUntil.deallocate(); noise.deallocate(); ids.deallocate(); idStart.deallocate(); regionCodes.deallocate(); shapeNow.deallocate()
        order.deallocate(); delay.deallocate(); meterStyle.deallocate()
        w.free(); pending.free(); due.free(); sorted.free(); counts.deallocate()
    }

    mutating func run() throws -> SimulationSummary {
        for k in 0..<steps {
            try step(k)
        }
        try flush(before: Int64.max)
        try w.flush()
        summary.lines = w.lines
        summary.bytes = w.bytesOut
        return summary
    }

    // MARK: Generating

    @inline(__always)
    private mutating func style() -> UInt8 {
        if !mixed { return 0 }
        let x = rng.below(10)
        return x == 0 ? LineWriter.Style.unix.rawValue : x == 1 ? LineWriter.Style.utc.rawValue : 0
    }

    @inline(__always)
    private mutating func append(_ r: Rec) {
        pending.append(r)
        appended &+= 1
        if !held.isEmpty { releaseHeld(all: false) }
    }

    private mutating func releaseHeld(all: Bool) {
        var i = 0
        while i < held.count {
            if all || held[i].release <= appended {
                pending.append(held[i].rec)
                appended &+= 1
                held.remove(at: i)
            } else {
                i += 1
            }
        }
    }

    private mutating func step(_ k: Int) throws {
        let T = startSec + Int64(k) * stepSec
        // Load shapes at the middle of the interval.
        let mid = T + stepSec / 2 + offset
        let localDay = Int(Time.floorDiv(mid, 86_400))
        let weekend = (localDay + 3) % 7 >= 5  // 1970-01-01 was a Thursday
        let sod = Int(mid - Int64(localDay) * 86_400)
        for (i, industry) in industries.enumerated() {
            shapeNow[i] = industry.shape(secondOfDay: sod, weekend: weekend)
        }
        if o.factorFeeds { factorFeeds(from: T) }

        let stepSec = self.stepSec, hours = self.hours, jitter = self.jitter, disorder = self.disorder
        let kw = self.kw, ind = self.ind, isInterval = self.isInterval, reg = self.reg, last = self.last
        let silentUntil = self.silentUntil, noise = self.noise, shapeNow = self.shapeNow
        let order = self.order, delay = self.delay, meterStyle = self.meterStyle, collectorOrder = self.collectorOrder
        let k32 = Int32(truncatingIfNeeded: k)
        for idx in 0..<meters {
            let m = Int(order[idx])
            var a = noise[m] * 0.8 + rng.uniform(-0.04, 0.04)
            a = min(0.2, max(-0.2, a))
            noise[m] = a
            let e = Int64(kw[m] * shapeNow[Int(ind[m])] * (1 + a) * hours * 100 + 0.5)
            let silent = k32 < silentUntil[m]
            var rec: Rec
            if isInterval[m] {
                if silent { continue }
                let end = T + stepSec
                rec = Rec(arrival: end + Int64(delay[m]) + (disorder > 0 ? Int64(rng.below(disorder)) : 0), t0: T, value: e,
                          id: Int32(truncatingIfNeeded: m), dur: Int32(truncatingIfNeeded: stepSec),
                          kind: Rec.interval, style: collectorOrder ? meterStyle[m] : style(), aux: 0, variant: 0)
            } else {
                if silent { reg[m] &+= e; continue }
                let j = jitter > 0 ? Int64(rng.below(jitter)) : 0
                var base = reg[m]
                if last[m] >= 0 && rng.chance(resetT) {
                    // The meter was replaced: a new register that starts near zero.
                    let fresh = Int64(rng.below(500))
                    if fresh + e * j / stepSec < last[m] {
                        base = fresh
                        summary.resets += 1
                    }
                }
                // The register at the reading: the interval's energy accrues evenly.
                let v = base + e * j / stepSec
                reg[m] = base + e
                last[m] = v
                let ts = T + j
                rec = Rec(arrival: ts + Int64(delay[m]) + (disorder > 0 ? Int64(rng.below(disorder)) : 0), t0: ts, value: v,
                          id: Int32(truncatingIfNeeded: m), dur: 0, kind: Rec.register,
                          style: collectorOrder ? meterStyle[m] : style(), aux: 0, variant: 0)
            }
            append(rec)
            summary.readings &+= 1
            if rng.chance(dupT) {
                held.append((appended + 1 + rng.below(12), rec))
                summary.duplicates += 1
            }
            if rng.chance(badT) {
                var b = rec
                b.kind = Rec.bad
                b.aux = UInt8(rng.below(BadLineKind.allCases.count))
                b.variant = UInt8(rng.below(256))
                append(b)
                summary.badLines += 1
            }
            if rng.chance(gapT) {
                let secs = 3600 + rng.below(5 * 3600 + 1)
                silentUntil[m] = Int32(truncatingIfNeeded: k + 1 + max(1, secs / Int(stepSec)))
                summary.gaps += 1
            }
        }
        if !held.isEmpty { releaseHeld(all: true) }
        try flush(before: T + stepSec)
    }

    /// Hourly `f` and `m` records for the hours that start in `[T, T + interval)`, arriving at
    /// the start of their hour.
    private mutating func factorFeeds(from T: Int64) {
        var h = Time.floorDiv(T + offset + 3599, 3600) * 3600 - offset
        while h < T + stepSec {
            let hour = Int(Time.floorDiv(h + offset, 3600) % 24)
            let sun = Simulator.solar(hour)
            let evening = exp(-pow((Double(hour) + 0.5 - 19.5) / 2.5, 2))
            for (i, (_, base)) in Simulator.factorProvinces.enumerated() {
                var f = base * (1.06 - 0.16 * sun + 0.05 * evening) * (1 + rng.uniform(-0.02, 0.02))
                f = min(0.9, max(0.3, f))
                append(Rec(arrival: h, t0: h, value: Int64((f * 10_000).rounded()), id: fRegions[i], dur: 3600,
                           kind: Rec.factor, style: style(), aux: 0, variant: 0))
                summary.factorLines += 1
            }
            let d = Simulator.demand(hour)
            for (i, (_, mean, shares)) in Simulator.mixProvinces.enumerated() {
                wind[i] = min(1.7, max(0.3, wind[i] + rng.uniform(-0.15, 0.15)))
                let total = mean * d
                let windMWh = shares[2] * mean * wind[i]
                let solarMWh = shares[3] * mean * sun / 0.3183
                // Reservoirs follow demand and fill in for the sun at night.
                let hydro = max(0.2 * shares[0] * mean, shares[0] * total + 0.7 * (shares[3] * mean - solarMWh))
                let gas = shares[4] * mean * d * d
                let coal = max(0.3 * shares[1] * mean, total - hydro - windMWh - solarMWh - gas)
                let st = style()
                for (s, mwh) in zip(Simulator.mixSources, [hydro, coal, windMWh, solarMWh, gas]) {
                    let jittered = mwh * (1 + rng.uniform(-0.01, 0.01))
                    append(Rec(arrival: h, t0: h, value: Int64((jittered * 10).rounded()), id: mRegions[i], dur: 3600,
                               kind: Rec.mix, style: st, aux: UInt8(s.rawValue), variant: 0))
                    summary.factorLines += 1
                }
            }
            h += 3600
        }
    }

    // MARK: Writing

    /// Writes, in arrival order, every pending record that arrives before `threshold`.
    private mutating func flush(before threshold: Int64) throws {
        due.reserve(pending.count)
        var nd = 0, keep = 0
        var lo = Int64.max, hi = Int64.min
        let pp = pending.p, dp = due.p
        for i in 0..<pending.count {
            let a = pp[i].arrival
            if a < threshold {
                dp[nd] = pp[i]
                nd &+= 1
                if a < lo { lo = a }
                if a > hi { hi = a }
            } else {
                pp[keep] = pp[i]
                keep &+= 1
            }
        }
        pending.count = keep
        if nd == 0 { return }
        if lo == hi {
            for i in 0..<nd { try emit(dp[i]) }
            return
        }
        let range = Int(hi - lo) + 1
        if range + 1 > countsCapacity {
            counts.deallocate()
            countsCapacity = range + 1
            counts = .allocate(capacity: countsCapacity)
        }
        let counts = self.counts
        counts.update(repeating: 0, count: range + 1)
        for i in 0..<nd { counts[Int(dp[i].arrival &- lo) &+ 1] &+= 1 }
        for b in 0..<range { counts[b + 1] &+= counts[b] }
        sorted.reserve(nd)
        let sp = sorted.p
        for i in 0..<nd {
            let b = Int(dp[i].arrival &- lo)
            sp[Int(counts[b])] = dp[i]
            counts[b] &+= 1
        }
        for i in 0..<nd { try emit(sp[i]) }
    }

    @inline(__always)
    private mutating func putID(_ m: Int32) {
        let a = Int(idStart[Int(m)]), b = Int(idStart[Int(m) + 1])
        w.put(ids + a, b - a)
    }

    @inline(__always)
    private mutating func putTime(_ t: Int64, _ s: UInt8) {
        if ndjson && s != LineWriter.Style.unix.rawValue {
            w.put(0x22); w.time(t, style: s); w.put(0x22)
        } else {
            w.time(t, style: s)
        }
    }

    private mutating func putSource(_ s: UInt8) {
        sourceNames[Int(s)].withUnsafeBufferPointer { w.put($0.baseAddress!, $0.count) }
    }

    private mutating func emit(_ r: Rec) throws {
        switch r.kind {
        case Rec.register:
            if ndjson {
                w.put("{\"kind\":\"r\",\"meter\":\""); putID(r.id); w.put("\",\"ts\":"); putTime(r.t0, r.style)
                w.put(",\"kwh\":"); w.fixed(r.value, decimals: 2); w.put(0x7D)
            } else {
                w.put("r,"); putID(r.id); w.put(0x2C); w.time(r.t0, style: r.style)
                w.put(0x2C); w.fixed(r.value, decimals: 2)
            }
        case Rec.interval:
            if ndjson {
                w.put("{\"kind\":\"i\",\"meter\":\""); putID(r.id); w.put("\",\"start\":"); putTime(r.t0, r.style)
                w.put(",\"end\":"); putTime(r.t0 + Int64(r.dur), r.style)
                w.put(",\"kwh\":"); w.fixed(r.value, decimals: 2); w.put(0x7D)
            } else {
                w.put("i,"); putID(r.id); w.put(0x2C); w.time(r.t0, style: r.style)
                w.put(0x2C); w.time(r.t0 + Int64(r.dur), style: r.style)
                w.put(0x2C); w.fixed(r.value, decimals: 2)
            }
        case Rec.factor, Rec.mix:
            let isMix = r.kind == Rec.mix
            if ndjson {
                w.put(isMix ? "{\"kind\":\"m\",\"region\":\"" : "{\"kind\":\"f\",\"region\":\"")
                w.put(regionCodes + Int(r.id) * 5, 5)
                w.put("\",\"start\":"); putTime(r.t0, r.style)
                w.put(",\"end\":"); putTime(r.t0 + Int64(r.dur), r.style)
                if isMix {
                    w.put(",\"source\":\""); putSource(r.aux)
                    w.put("\",\"mwh\":"); w.fixed(r.value, decimals: 1)
                } else {
                    w.put(",\"kg_per_kwh\":"); w.fixed(r.value, decimals: 4)
                }
                w.put(0x7D)
            } else {
                w.put(isMix ? "m," : "f,")
                w.put(regionCodes + Int(r.id) * 5, 5)
                w.put(0x2C); w.time(r.t0, style: r.style)
                w.put(0x2C); w.time(r.t0 + Int64(r.dur), style: r.style)
                w.put(0x2C)
                if isMix {
                    putSource(r.aux)
                    w.put(0x2C); w.fixed(r.value, decimals: 1)
                } else {
                    w.fixed(r.value, decimals: 4)
                }
            }
        default:
            emitBad(r)
        }
        try w.endLine()
    }

    private static let numberVariantsCSV: [StaticString] = ["n/a", "12..5", "0x1F", "1.5e", "abc"]
    private static let numberVariantsJSON: [StaticString] = ["\"n/a\"", "12..5", "\"0x1F\"", "1.5e", "\"abc\""]
    private static let kindVariants: [StaticString] = ["x", "R", "reading", "q", "rr"]

    /// A malformed line: a meter record with one thing wrong, or garbage.
    private mutating func emitBad(_ r: Rec) {
        let bad = BadLineKind(rawValue: r.aux) ?? .garbage
        let v = Int(r.variant)
        let isInterval = r.dur != 0
        if bad == .garbage {
            // 8–40 bytes, the first not ASCII (so never a kind letter, `#`, `{` or a space), none a
            // newline or a carriage return.
            var x = UInt64(bitPattern: r.t0) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(UInt32(bitPattern: r.id)) &* 0xBF58_476D_1CE4_E5B9 ^ UInt64(v)
            func nextByte() -> UInt64 {
                x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return x >> 33
            }
            let len = 8 + Int(nextByte() % 33)
            w.put(UInt8(0x80 + nextByte() % 0x7F))
            for _ in 1..<len { w.put(UInt8(0x21 + nextByte() % 0xDE)) }
            return
        }
        let kindText = bad == .badKind ? Self.kindVariants[v % Self.kindVariants.count] : (isInterval ? "i" : "r")
        let dropLast = bad == .tooFewFields
        if ndjson {
            w.put("{\"kind\":\""); w.put(kindText)
            w.put("\",\"meter\":\""); badMeter(r, bad); w.put(0x22)
            if isInterval {
                w.put(",\"start\":"); badTime(r.t0, r, bad, first: true)
                if !dropLast { w.put(",\"end\":"); badTime(r.t0 + Int64(r.dur), r, bad, first: false) }
                w.put(",\"kwh\":"); badValue(r, bad)
            } else {
                w.put(",\"ts\":"); badTime(r.t0, r, bad, first: true)
                if !dropLast { w.put(",\"kwh\":"); badValue(r, bad) }
            }
            w.put(0x7D)
        } else {
            w.put(kindText)
            w.put(0x2C); badMeter(r, bad)
            w.put(0x2C); badTime(r.t0, r, bad, first: true)
            if isInterval {
                if !dropLast { w.put(0x2C); badTime(r.t0 + Int64(r.dur), r, bad, first: false) }
                w.put(0x2C); badValue(r, bad)
            } else if !dropLast {
                w.put(0x2C); badValue(r, bad)
            }
        }
    }

    private mutating func badTime(_ t: Int64, _ r: Rec, _ bad: BadLineKind, first: Bool) {
        guard first && bad == .badTimestamp else { putTime(t, r.style); return }
        if ndjson { w.put(0x22) }
        switch Int(r.variant) % 4 {
        case 0: w.put("2026-13-45T25:61:00+08:00")
        case 1: w.put("yesterday")
        case 2: w.time(t, style: 0, seconds: false)
        default: w.time(t, style: 0, offset: false)
        }
        if ndjson { w.put(0x22) }
    }

    private mutating func badMeter(_ r: Rec, _ bad: BadLineKind) {
        if bad == .unknownMeter {
            w.put(0x58)  // X: registered ids start with M
            w.uint(UInt64(1_000_000 + (Int(r.id) &* 7919 &+ Int(r.variant)) % 9_000_000))
        } else {
            putID(r.id)
        }
    }

    private mutating func badValue(_ r: Rec, _ bad: BadLineKind) {
        if bad == .badNumber {
            let variants = ndjson ? Self.numberVariantsJSON : Self.numberVariantsCSV
            w.put(variants[Int(r.variant) % variants.count])
        } else {
            w.fixed(r.value, decimals: 2)
        }
    }
}
