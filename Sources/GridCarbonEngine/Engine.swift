import GridCarbonModel

/// The electricity-carbon engine (§3): records in, spans, slots, windows and side outputs out.
///
/// The engine is deterministic: the same lines in the same order (and the same wall clock for the
/// `future_timestamp` check) give the same calls on its ``EngineSink`` in the same order, and the
/// aggregates do not depend on the arrival order of records inside the reorder window:
/// - register readings and interval records wait per meter, sorted, until the watermark passes them;
/// - energy is summed per meter and slot in the meter's own time order, then per profile in
///   meter-index order when the slot closes, so floating-point sums always add in the same order.
///
/// It is not thread-safe: one owner (the replay loop, or the daemon's serial queue) drives it.
public final class Engine {
    public let settings: EngineSettings
    public private(set) var registry: Registry
    public internal(set) var factors: FactorBook
    public let sink: EngineSink
    let parser: LineParser

    /// Wall clock for the `future_timestamp` rule; set by the owner.
    public var now: Micros
    public internal(set) var counts = LineCounts()
    /// Accepted lines by record kind (metrics).
    public internal(set) var acceptedByKind = KindCounts()
    /// The watermark `W` (§3.4).
    public internal(set) var watermark: Micros = Time.distantPast
    /// Largest meter-record timestamp seen (`end` for `i`).
    public internal(set) var maxEventTime: Micros = Time.distantPast
    /// Source names for side outputs (`records.csv`, `tcp:10.0.0.5:41234`).
    public internal(set) var sourceNames: [String] = []
    /// Windows written so far.
    public internal(set) var windowsClosed = 0

    // Per meter.
    let meterCount: Int
    let baseTs: UnsafeMutablePointer<Int64>
    let baseVal: UnsafeMutablePointer<Double>
    let pendHead: UnsafeMutablePointer<Int32>
    /// The registry's frozen per-meter arrays (kept alive by `meters`).
    let meters: MeterIndex
    let profileOf: UnsafeMutablePointer<Int32>
    let maxKW: UnsafeMutablePointer<Double>

    // Pending items (readings and intervals not yet behind the watermark), pooled.
    struct Pending {
        var key: Int64      // ts for r, end for i
        var start: Int64    // ts for r, start for i
        var value: Double
        var next: Int32     // the meter's next pending item, or the free list
        var meter: Int32
        var bucketNext: Int32  // next item in the same calendar bucket
        var kind: UInt8     // 0 = register, 1 = interval, `dead` once processed
    }
    static let dead: UInt8 = 0xFF
    var pool: UnsafeMutablePointer<Pending>
    var poolCapacity: Int
    var poolUsed = 0
    var freeHead: Int32 = -1
    public internal(set) var pendingCount = 0
    /// Items still linked in a bucket: pending ones, and processed ones not yet unlinked.
    var linkedCount = 0

    // Calendar queue of pending items, one bucket per second of their key, linked through the
    // pool (no allocation per record, and no bucket keeps memory once it is empty).
    let bucketHead: UnsafeMutablePointer<Int32>
    let bucketMask: Int64

    // Slots.
    let slotLen: Int64
    let offset: Int64
    let horizon: Int64
    /// Slots with index below this are closed.
    var closedBefore: Int64 = Int64.min / 8
    let ringSize: Int
    let cells: UnsafeMutablePointer<Double>
    let touched: UnsafeMutablePointer<Bool>
    var touchedCount = 0

    // Windows.
    let windowLens: [Int64]
    var open: [[WindowAccumulator]]
    var spare: [WindowAccumulator] = []
    /// Per window length, the accumulator used last (most spans of a meter land in the same one).
    let recent: UnsafeMutablePointer<WindowAccumulator?>
    /// The slot and, per window length, the window the last span fell in, as `[start, end)` in
    /// UTC micros: consecutive spans mostly fall in the same ones, and 64-bit divisions are dear.
    var cachedSlot: (index: Int64, start: Micros, end: Micros) = (0, 0, 0)
    let cachedWindow: UnsafeMutablePointer<(index: Int64, start: Micros, end: Micros)>
    let profiles: [Profile]
    let profileCount: Int
    let profileRegion: [Int]
    /// Key indices per level sorted by the byte order of their names.
    let sortedKeys: [[Int32]]
    /// The levels written, and for each profile its row in a flat per-window sums table
    /// (`keySlots[p * levels.count + l]`, -1 when the registry gives no key at that level).
    let levels: [Level]
    let levelBase: [Int]
    let keySlots: UnsafeMutablePointer<Int32>
    let sumsCount: Int
    /// Per-key sums while a window is rolled up; all zero between windows.
    let rollUpScratch: UnsafeMutablePointer<RollUpSums>

    // Scratch.
    var slotEnergy: [Double]
    var lateSpans: [LateSpan] = []
    var anomalies: [Anomaly] = []
    var record = ParsedRecord()
    /// Hashes of the registry for checkpoints (EngineCheckpoint.swift), computed on first use.
    var registryHashes: (ids: UInt64, profiles: UInt64)?

    /// Running totals (§4.2) per profile, rolled up to keys on demand.
    public internal(set) var totals: RunningTotals

    /// The alert rules (§5), when configured (Engine+Alerts.swift).
    var alerts: AlertEvaluator?
    /// Whether the alert rules need every processed reading (data-quality rules).
    var alertsTrackMeters = false
    /// Inside ``finish()``.
    var finishing = false
    /// The alert `seq` while no rules are configured (it never goes back).
    var alertSeqCarry: Int64 = 0
    /// Emissions per profile of the slot being closed, for budget rules.
    var slotCO2: [Double] = []

    public init(settings: EngineSettings, registry: Registry, annual: AnnualFactorTable = .embedded,
                sources: SourceFactorTable = .embedded, sink: EngineSink, now: Micros) {
        do { try settings.validate() } catch { preconditionFailure(error.message) }
        self.settings = settings
        self.registry = registry
        self.sink = sink
        self.now = now
        parser = LineParser(registry: registry)
        factors = FactorBook(annual: annual, sources: sources, zone: settings.zone)
        meterCount = registry.count
        let n = max(meterCount, 1)
        baseTs = .allocate(capacity: n); baseTs.initialize(repeating: Time.distantPast, count: n)
        baseVal = .allocate(capacity: n); baseVal.initialize(repeating: 0, count: n)
        pendHead = .allocate(capacity: n); pendHead.initialize(repeating: -1, count: n)
        meters = registry.index!
        profileOf = meters.profile
        maxKW = meters.maxKW
        poolCapacity = 1024 + meterCount + meterCount / 4
        pool = .allocate(capacity: poolCapacity)

        var b = 4
        let reorderSeconds = Int(settings.reorderWindow / Time.microsPerSecond) + 3
        while b < reorderSeconds { b <<= 1 }
        bucketHead = .allocate(capacity: b)
        bucketHead.initialize(repeating: -1, count: b)
        bucketMask = Int64(b - 1)

        slotLen = settings.slot
        offset = settings.zone.offsetMicros
        horizon = settings.spanHorizon
        var r = 4
        let need = Int((settings.spanHorizon + settings.reorderWindow) / settings.slot) + 3
        while r < need { r <<= 1 }
        ringSize = r
        cells = .allocate(capacity: r * n)
        cells.initialize(repeating: 0, count: r * n)
        touched = .allocate(capacity: r)
        touched.initialize(repeating: false, count: r)

        windowLens = settings.windows
        open = settings.windows.map { _ in [] }
        recent = .allocate(capacity: settings.windows.count)
        recent.initialize(repeating: nil, count: settings.windows.count)
        cachedWindow = .allocate(capacity: settings.windows.count)
        cachedWindow.initialize(repeating: (0, 0, 0), count: settings.windows.count)
        profiles = registry.profiles
        profileCount = registry.profiles.count
        profileRegion = registry.profiles.map { Int($0.region) }
        sortedKeys = Level.allCases.map { level in
            let names = registry.keyNames[level.rawValue].map { Array($0.utf8) }
            return names.indices.sorted { names[$0].lexicographicallyPrecedes(names[$1]) }.map { Int32($0) }
        }
        slotEnergy = Array(repeating: 0, count: max(profileCount, 1))
        levels = Level.allCases.filter { settings.levels.contains($0) }
        var bases: [Int] = []
        var total = 0
        for l in levels { bases.append(total); total += registry.keyCount(l) }
        levelBase = bases
        sumsCount = total
        keySlots = .allocate(capacity: max(1, profileCount * levels.count))
        rollUpScratch = .allocate(capacity: max(1, total))
        rollUpScratch.initialize(repeating: RollUpSums(), count: max(1, total))
        for (p, profile) in registry.profiles.enumerated() {
            for (li, l) in levels.enumerated() {
                let k = profile.key(l)
                keySlots[p * levels.count + li] = k < 0 ? -1 : Int32(bases[li]) + k
            }
        }
        totals = RunningTotals(profiles: profileCount, zone: settings.zone)
    }

    deinit {
        baseTs.deallocate(); baseVal.deallocate(); pendHead.deallocate()
        pool.deallocate(); cells.deallocate()
        for list in open { for acc in list { acc.release() } }
        for acc in spare { acc.release() }
        touched.deallocate()
        bucketHead.deallocate()
        keySlots.deallocate()
        rollUpScratch.deallocate()
        recent.deinitialize(count: windowLens.count)
        recent.deallocate()
        cachedWindow.deallocate()
    }

    /// Registers a source name for side outputs and returns its id.
    public func source(named name: String) -> Int32 {
        if let i = sourceNames.firstIndex(of: name) { return Int32(i) }
        sourceNames.append(name)
        return Int32(sourceNames.count - 1)
    }

    // MARK: - Input

    /// Feeds complete lines: every line of `buffer` that ends with a newline. Returns the number of
    /// bytes consumed (up to and including the last newline); the caller keeps the rest for later.
    /// `line` is the number of the first line in `buffer` and is advanced past the lines consumed.
    @discardableResult
    public func ingest(_ buffer: UnsafeRawBufferPointer, source: Int32, line: inout Int64) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var start = 0
        let n = buffer.count
        while start < n {
            guard let nl = memchr(base + start, 0x0A, n - start) else { break }
            let end = base.distance(to: UnsafeRawPointer(nl))
            ingestLine(UnsafeRawBufferPointer(start: base + start, count: end - start), origin: LineOrigin(source: source, line: line))
            line += 1
            start = end + 1
        }
        return start
    }

    /// Feeds one line (without its newline).
    public func ingestLine(_ line: UnsafeRawBufferPointer, origin: LineOrigin) {
        switch parser.parse(line, into: &record) {
        case .skip:
            return
        case .rejected(let reason):
            reject(reason, line: line, origin: origin)
        case .record:
            apply(line: line, origin: origin)
        }
    }

    /// Rejects a line the reader could not even hand over whole (`line_too_long`), or any other.
    public func reject(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        counts.rejected += 1
        sink.rejected(reason, line: line, origin: origin)
    }

    @inline(__always)
    func apply(line: UnsafeRawBufferPointer, origin: LineOrigin) {
        let r = record
        switch r.kind {
        case .factor:
            if factors.addFactor(region: Int(r.region), start: r.t0, end: r.t1, value: r.value) {
                counts.accepted += 1
                acceptedByKind.factor += 1
            } else {
                reject(.overlappingFactor, line: line, origin: origin)
            }
            return
        case .mix:
            factors.addMix(region: Int(r.region), start: r.t0, end: r.t1, source: r.source, mwh: r.value)
            counts.accepted += 1
            acceptedByKind.mix += 1
            return
        case .register, .interval:
            break
        }
        let key = r.t1
        if key > now &+ settings.maxFuture {
            reject(.futureTimestamp, line: line, origin: origin)
            return
        }
        if key <= watermark {
            counts.late += 1
            sink.late(line: line, origin: origin)
            return
        }
        let m = Int(r.meter)
        let kind: UInt8 = r.kind == .register ? 0 : 1
        // Find the insertion point in the meter's sorted pending list, catching repeats.
        var prev: Int32 = -1
        var cur = pendHead[m]
        while cur >= 0 {
            let c = pool[Int(cur)]
            if c.key > key || (c.key == key && (c.kind > kind || (c.kind == kind && (c.start > r.t0 || (c.start == r.t0 && c.value > r.value))))) { break }
            if c.key == key && c.kind == kind && c.start == r.t0 {
                if kind == 0 {
                    if c.value == r.value { counts.duplicate += 1 } else { reject(.conflictingDuplicate, line: line, origin: origin) }
                    return
                }
                if c.value == r.value { counts.duplicate += 1; return }
            }
            prev = cur
            cur = c.next
        }
        let slot = allocPending()
        let b = Int(Time.floorDiv(key, Time.microsPerSecond) & bucketMask)
        pool[Int(slot)] = Pending(key: key, start: r.t0, value: r.value, next: cur, meter: Int32(m), bucketNext: bucketHead[b], kind: kind)
        bucketHead[b] = slot
        if prev < 0 { pendHead[m] = slot } else { pool[Int(prev)].next = slot }
        pendingCount += 1
        linkedCount += 1
        counts.accepted += 1
        if kind == 0 { acceptedByKind.register += 1 } else { acceptedByKind.interval += 1 }
        if key > maxEventTime {
            maxEventTime = key
            let w = key &- settings.reorderWindow
            if w > watermark { advance(to: w) }
        }
    }

    @inline(__always)
    func allocPending() -> Int32 {
        if freeHead >= 0 {
            let s = freeHead
            freeHead = pool[Int(s)].next
            return s
        }
        if poolUsed == poolCapacity {
            let bigger = UnsafeMutablePointer<Pending>.allocate(capacity: poolCapacity * 2)
            bigger.moveInitialize(from: pool, count: poolUsed)
            pool.deallocate()
            pool = bigger
            poolCapacity *= 2
        }
        poolUsed += 1
        return Int32(poolUsed - 1)
    }

    // MARK: - Watermark

    /// Moves the watermark forward by wall time (`serve`, while no meter record arrives).
    public func advanceWatermark(to w: Micros) {
        if w > watermark { advance(to: w) }
    }

    /// End of input: the watermark goes to infinity, everything is attributed and closed.
    public func finish() {
        // The end of the input is not the fleet going silent: no silent-meter checks at the
        // window ends the final move passes (those of windows that close with data stay).
        finishing = true
        advance(to: Time.distantFuture)
        finishing = false
    }

    /// Moves `W` forward: attributes every span that ends at or before it (against the slots closed
    /// before the move), then closes the slots and windows it passes.
    func advance(to newW: Micros) {
        let oldW = watermark
        watermark = newW
        if linkedCount > 0 {
            let first = Time.floorDiv(oldW, Time.microsPerSecond)
            let last = min(Time.floorDiv(newW, Time.microsPerSecond), first &+ bucketMask)
            var sec = first
            while sec <= last && linkedCount > 0 {
                let b = Int(sec & bucketMask)
                var it = bucketHead[b]
                bucketHead[b] = -1
                while it >= 0 {
                    let i = Int(it)
                    let nextInBucket = pool[i].bucketNext
                    if pool[i].kind != Self.dead && pool[i].key <= newW {
                        drain(meter: Int(pool[i].meter), upTo: newW)
                    }
                    if pool[i].kind == Self.dead {
                        pool[i].next = freeHead
                        freeHead = it
                        linkedCount -= 1
                    } else {
                        pool[i].bucketNext = bucketHead[b]
                        bucketHead[b] = it
                    }
                    it = nextInBucket
                }
                sec += 1
            }
        }
        if !anomalies.isEmpty {
            anomalies.sort { ($0.ts, $0.meter, $0.kind.rawValue) < ($1.ts, $1.meter, $1.kind.rawValue) }
            for a in anomalies { sink.anomaly(a) }
            anomalies.removeAll(keepingCapacity: true)
        }
        if !lateSpans.isEmpty {
            lateSpans.sort { ($0.start, $0.meter, $0.end) < ($1.start, $1.meter, $1.end) }
            for l in lateSpans { sink.lateSpan(l) }
            lateSpans.removeAll(keepingCapacity: true)
        }
        let target = Time.floorDiv(newW &+ offset &- horizon, slotLen)
        if target > closedBefore { close(upTo: target) }
    }

    /// Processes meter `m`'s pending items with key at or before `w`, in time order.
    @inline(__always)
    func drain(meter m: Int, upTo w: Micros) {
        var h = pendHead[m]
        while h >= 0 {
            let it = pool[Int(h)]
            if it.key > w { break }
            if it.kind == 0 {
                if alertsTrackMeters {
                    let before = anomalies.count
                    reading(meter: m, ts: it.key, value: it.value)
                    alerts!.seen(meter: m, at: it.key, region: Int(meters.region[m]), register: true, anomaly: anomalies.count != before, openFrom: slotStart(closedBefore))
                } else {
                    reading(meter: m, ts: it.key, value: it.value)
                }
            } else {
                attribute(meter: m, start: it.start, end: it.key, energy: it.value)
                if alertsTrackMeters {
                    alerts!.seen(meter: m, at: it.key, region: Int(meters.region[m]), register: false, anomaly: false, openFrom: slotStart(closedBefore))
                }
            }
            // Processed: unlinked from the meter now, freed when its bucket is next walked
            // (in this same watermark move: its key is behind the new watermark).
            pool[Int(h)].kind = Self.dead
            pendingCount -= 1
            h = it.next
        }
        pendHead[m] = h
    }

    /// A register reading behind the watermark: compare with the baseline (§3.1).
    @inline(__always)
    func reading(meter m: Int, ts t1: Micros, value v1: Double) {
        let t0 = baseTs[m]
        baseTs[m] = t1
        let v0 = baseVal[m]
        baseVal[m] = v1
        if t0 == Time.distantPast { return }
        if t1 &- t0 > settings.maxGap {
            anomalies.append(Anomaly(kind: .meterGap, meter: Int32(m), ts: t1, kwh: v1, previousTs: t0, previousKWh: v0, maxKW: maxKW[m]))
        }
        if v1 < v0 {
            anomalies.append(Anomaly(kind: .registerReset, meter: Int32(m), ts: t1, kwh: v1, previousTs: t0, previousKWh: v0, maxKW: maxKW[m]))
            return
        }
        let e = v1 - v0
        let kw = maxKW[m]
        if kw.isFinite && e / (Double(t1 &- t0) / Double(Time.microsPerHour)) > kw {
            anomalies.append(Anomaly(kind: .implausibleJump, meter: Int32(m), ts: t1, kwh: v1, previousTs: t0, previousKWh: v0, maxKW: kw))
            return
        }
        attribute(meter: m, start: t0, end: t1, energy: e)
    }

    @inline(__always)
    func slotIndex(_ t: Micros) -> Int64 { Time.floorDiv(t &+ offset, slotLen) }

    @inline(__always)
    func slotStart(_ s: Int64) -> Micros { s &* slotLen &- offset }

    /// Attributes span `[a, b)` of `e` kWh to the open slots it overlaps and counts it in the
    /// windows; the part in closed slots becomes a `late_span`.
    @inline(__always)
    func attribute(meter m: Int, start a: Micros, end b: Micros, energy e: Double) {
        let openFrom = slotStart(closedBefore)
        var a2 = a
        if a < openFrom {
            let lateEnd = min(b, openFrom)
            let lateE = b <= openFrom ? e : e * Double(lateEnd &- a) / Double(b &- a)
            lateSpans.append(LateSpan(meter: Int32(m), start: a, end: lateEnd, kwh: lateE))
            if b <= openFrom { return }
            a2 = openFrom
        }
        let mask = Int64(ringSize - 1)
        let p = Int(profileOf[m])
        if a2 >= cachedSlot.start && b <= cachedSlot.end {
            // Fast path: the span lies in the same slot as the last one.
            let r = Int(cachedSlot.index & mask)
            cells[r &* meterCount &+ m] += a2 == a ? e : e * Double(b &- a2) / Double(b &- a)
            if !touched[r] { touched[r] = true; touchedCount += 1 }
        } else {
            let sA = slotIndex(a2), sB = slotIndex(b &- 1)
            precondition(sB &- closedBefore < Int64(ringSize), "span beyond the slot ring: watermark invariant broken")
            if sA == sB && a2 == a {
                let r = Int(sA & mask)
                cells[r &* meterCount &+ m] += e
                if !touched[r] { touched[r] = true; touchedCount += 1 }
            } else {
                let d = Double(b &- a)
                var s = sA
                while s <= sB {
                    let ss = slotStart(s)
                    let ov = min(b, ss &+ slotLen) &- max(a2, ss)
                    let r = Int(s & mask)
                    cells[r &* meterCount &+ m] += e * Double(ov) / d
                    if !touched[r] { touched[r] = true; touchedCount += 1 }
                    s += 1
                }
            }
            let ss = slotStart(sB)
            cachedSlot = (sB, ss, ss &+ slotLen)
        }
        for li in 0..<windowLens.count {
            let c = cachedWindow[li]
            if a2 >= c.start && b <= c.end {
                window(li, c.index).count(meter: m, profile: p)
                continue
            }
            let len = windowLens[li]
            let wA = Time.floorDiv(a2 &+ offset, len), wB = Time.floorDiv(b &- 1 &+ offset, len)
            var w = wA
            while w <= wB {
                window(li, w).count(meter: m, profile: p)
                w += 1
            }
            let ws = wB &* len &- offset
            cachedWindow[li] = (wB, ws, ws &+ len)
        }
    }

    /// The accumulator of window `w` of length `li`, opened on first use.
    @inline(__always)
    func window(_ li: Int, _ w: Int64) -> WindowAccumulator {
        if let r = recent[li], r.index == w { return r }
        let acc = openWindow(li, w)
        recent[li] = acc
        return acc
    }

    func openWindow(_ li: Int, _ w: Int64) -> WindowAccumulator {
        var i = open[li].count - 1
        while i >= 0 {
            if open[li][i].index == w { return open[li][i] }
            if open[li][i].index < w { break }
            i -= 1
        }
        var acc: WindowAccumulator
        if let k = spare.lastIndex(where: { $0.lengthIndex == li }) {
            acc = spare.remove(at: k)
            acc.reset(index: w)
        } else {
            acc = WindowAccumulator(lengthIndex: li, index: w, profiles: profileCount, meters: meterCount)
        }
        open[li].insert(acc, at: i + 1)
        return acc
    }

    // MARK: - Closing

    /// Closes every slot below `target`, and the windows whose last slot that is.
    func close(upTo target: Int64) {
        let mask = Int64(ringSize - 1)
        var s = closedBefore
        if touchedCount == 0 && open.allSatisfy({ $0.isEmpty }) {
            closedBefore = target
            factors.prune(closedBefore: slotStart(target))
            silentChecks(before: target)
            return
        }
        while s < target {
            let r = Int(s & mask)
            if touched[r] {
                closeSlot(s, ring: r)
                touched[r] = false
                touchedCount -= 1
            }
            closedBefore = s + 1
            silentChecks(before: s + 1)
            closeWindows(endingBefore: s + 1)
            s += 1
            if touchedCount == 0 && open.allSatisfy({ $0.isEmpty }) { break }
        }
        closedBefore = target
        factors.prune(closedBefore: slotStart(target))
        silentChecks(before: target)
    }

    /// Silent-meter rules at the window ends before slot `s` starts that no window closing with
    /// data evaluated (§5 data quality: a fleet-wide outage opens no window). Always at a slot
    /// boundary, before the windows ending there close, so however the watermark moved (one jump
    /// or many steps) the events come in the same order.
    @inline(__always)
    func silentChecks(before s: Int64) {
        if alertsTrackMeters && !finishing { alerts?.silentBefore(slotStart(s)) }
    }

    /// Sums slot `s` per profile (meter-index order), applies the slot's factors, and adds it to
    /// the open windows and the running totals.
    func closeSlot(_ s: Int64, ring r: Int) {
        let base = cells + r * meterCount
        slotEnergy.withUnsafeMutableBufferPointer { pe in
            for p in 0..<pe.count { pe[p] = 0 }
            for m in 0..<meterCount {
                let e = base[m]
                if e != 0 {
                    pe[Int(profileOf[m])] += e
                    base[m] = 0
                }
            }
        }
        let start = slotStart(s), end = start + slotLen
        var regionFactor = [SlotFactor](repeating: SlotFactor(kgPerKWh: 0, realtimeShare: 0), count: Region.count)
        for reg in Region.provinces { regionFactor[reg] = factors.slotFactor(region: reg, start: start, end: end) }
        // The windows this slot belongs to.
        var accs: [WindowAccumulator] = []
        for li in 0..<windowLens.count {
            let w = Time.floorDiv(start &+ offset, windowLens[li])
            if let acc = open[li].first(where: { $0.index == w }) { accs.append(acc) }
        }
        totals.beginSlot(start: start)
        let budgets = alerts.map { !$0.targets.isEmpty } ?? false
        if budgets && slotCO2.count != profileCount { slotCO2 = Array(repeating: 0, count: profileCount) }
        for p in 0..<profileCount {
            let e = slotEnergy[p]
            if e == 0 {
                if budgets { slotCO2[p] = 0 }
                continue
            }
            let f = regionFactor[profileRegion[p]]
            let c = e * f.kgPerKWh
            let rt = e * f.realtimeShare
            for acc in accs {
                acc.energy[p] += e
                acc.co2[p] += c
                acc.realtime[p] += rt
            }
            totals.add(profile: p, energy: e, co2: c)
            if budgets { slotCO2[p] = c }
        }
        if budgets {
            slotCO2.withUnsafeBufferPointer { alerts!.slotClosed(s, start: start, end: end, co2: $0) }
        }
    }

    /// Closes (rolls up and emits) every open window that ends at or before slot `s`.
    func closeWindows(endingBefore s: Int64) {
        let t = slotStart(s)
        for li in 0..<windowLens.count {
            while let first = open[li].first, (first.index + 1) &* windowLens[li] &- offset <= t {
                open[li].removeFirst()
                if let r = recent[li], r.index == first.index { recent[li] = nil }
                emit(first)
                spare.append(first)
            }
        }
    }

    /// Rolls a window's profiles up to every level in one pass and hands the rows to the sink.
    func emit(_ acc: WindowAccumulator) {
        let len = windowLens[acc.lengthIndex]
        let start = acc.index &* len &- offset
        let sums = rollUpScratch
        let nl = levels.count
        for p in 0..<profileCount where acc.spans[p] > 0 {
            let e = acc.energy[p], c = acc.co2[p], rt = acc.realtime[p], m = acc.meters[p], n = acc.spans[p]
            let ks = keySlots + p * nl
            for l in 0..<nl {
                let k = Int(ks[l])
                if k < 0 { continue }
                sums[k].energy += e
                sums[k].co2 += c
                sums[k].realtime += rt
                sums[k].meters &+= m
                sums[k].spans &+= n
            }
        }
        var rows: [AggregateRow] = []
        for level in Level.outputOrder {
            guard let li = levels.firstIndex(of: level) else { continue }
            let base = levelBase[li]
            for key in sortedKeys[level.rawValue] {
                let v = sums[base + Int(key)]
                if v.spans > 0 {
                    rows.append(AggregateRow(level: level, key: key, energy: v.energy, co2: v.co2, realtimeEnergy: v.realtime, meters: v.meters, spans: v.spans))
                    sums[base + Int(key)] = RollUpSums()   // leave the scratch table zeroed for the next window
                }
            }
        }
        if rows.isEmpty { return }
        windowsClosed += 1
        let closed = ClosedWindow(lengthIndex: acc.lengthIndex, length: len, start: start, end: start + len, rows: rows)
        sink.windowClosed(closed)
        alerts?.windowClosed(closed)
    }
}

/// One key's sums while a window is rolled up.
struct RollUpSums {
    var energy = 0.0, co2 = 0.0, realtime = 0.0
    var meters: Int32 = 0, spans: Int32 = 0
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
