import GridCarbonModel

/// The electricity-carbon engine (§3): records in, spans, slots, windows and side outputs out.
///
/// The engine is deterministic: the same lines in the same order (and the same wall clock for the
/// `future_timestamp` check) give the same calls on its ``EngineSink`` in the same order, and the
/// aggregates do not depend on the arrival order of records inside the reorder window:
/// - register readings and interval records wait per meter, sorted, until the watermark passes them;
/// - energy is summed per meter and slot in the meter's own time order; from there every sum (per
///   profile, window and key) is exact (``ExactSum``), so it depends neither on the order of its
///   terms nor on how the meters were split into partitions (§8).
///
/// It is not thread-safe: one owner (the replay loop, or the daemon's serial queue) drives it.
public final class Engine {
    public let settings: EngineSettings
    public private(set) var registry: Registry
    public internal(set) var factors: FactorBook
    /// The `o` and `c` records held (reference §9.1).
    public internal(set) var dual = DualBook()
    public let sink: EngineSink
    let parser: LineParser
    /// The scalars that change with every record (Engine+HotState.swift).
    let hot: UnsafeMutablePointer<EngineHotState>

    /// Source names for side outputs (`records.csv`, `tcp:10.0.0.5:41234`).
    public internal(set) var sourceNames: [String] = []

    // Per meter.
    let meterCount: Int
    let baseTs: UnsafeMutablePointer<Int64>
    let baseVal: UnsafeMutablePointer<Double>
    /// The latest end of the meter's intervals already attributed (behind the watermark), or
    /// `Time.distantPast`: an `i` record starting before it overlaps one of them (reference §3.1).
    let intervalEnd: UnsafeMutablePointer<Int64>
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

    // Calendar queue of pending items, one bucket per second of their key, linked through the
    // pool (no allocation per record, and no bucket keeps memory once it is empty).
    let bucketHead: UnsafeMutablePointer<Int32>
    let bucketMask: Int64

    // Slots.
    let slotLen: Int64
    let offset: Int64
    let horizon: Int64
    let ringSize: Int
    let cells: UnsafeMutablePointer<Double>
    let touched: UnsafeMutablePointer<Bool>

    // Windows.
    let windowLens: [Int64]
    var open: [[WindowAccumulator]]
    var spare: [WindowAccumulator] = []
    /// Per window length, the accumulator used last (most spans of a meter land in the same one).
    let recent: UnsafeMutablePointer<WindowAccumulator?>
    /// Per window length, the window the last span fell in (the slot's is in ``cachedSlot``).
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
    /// Exact energy per profile of the slot being closed (``ExactSum`` units).
    var slotEnergy: [Int128]
    var lateSpans: [LateSpan] = []
    var anomalies: [Anomaly] = []
    /// Hashes of the registry for checkpoints (EngineCheckpoint.swift), computed on first use.
    var registryHashes: (ids: UInt64, profiles: UInt64)?
    /// ``profileHash``, computed on first use.
    var profileHashCache: UInt64?

    /// The scale-out role and its state (§8; ScaleOut/), nil for the single-machine engine.
    var scaleOut: ScaleOutState?

    /// Running totals (§4.2) per profile, rolled up to keys on demand.
    public internal(set) var totals: RunningTotals

    /// The alert rules (§5), when configured (Engine+Alerts.swift).
    var alerts: AlertEvaluator?
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
        parser = LineParser(registry: registry)
        factors = FactorBook(annual: annual, sources: sources, zone: settings.zone)
        meterCount = registry.count
        let n = max(meterCount, 1)
        baseTs = .allocate(capacity: n); baseTs.initialize(repeating: Time.distantPast, count: n)
        baseVal = .allocate(capacity: n); baseVal.initialize(repeating: 0, count: n)
        intervalEnd = .allocate(capacity: n); intervalEnd.initialize(repeating: Time.distantPast, count: n)
        pendHead = .allocate(capacity: n); pendHead.initialize(repeating: -1, count: n)
        meters = registry.index!
        profileOf = meters.profile
        maxKW = meters.maxKW
        let poolCapacity = 1024 + meterCount + meterCount / 4
        hot = .allocate(capacity: 1)
        hot.initialize(to: EngineHotState(now: now, pool: .allocate(capacity: poolCapacity), poolCapacity: poolCapacity))

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
        baseTs.deallocate(); baseVal.deallocate(); intervalEnd.deallocate(); pendHead.deallocate()
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
        hot.deinitialize(count: 1)
        hot.deallocate()
    }

    /// Registers a source name for side outputs and returns its id.
    public func source(named name: String) -> Int32 {
        if let i = sourceNames.firstIndex(of: name) { return Int32(i) }
        sourceNames.append(name)
        return Int32(sourceNames.count - 1)
    }
}
