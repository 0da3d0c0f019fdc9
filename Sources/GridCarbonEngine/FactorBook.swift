import GridCarbonModel

/// The factor of one region over one slot (§3.3), with the share of the slot covered by
/// real-time or mix-derived factors.
public struct SlotFactor: Sendable, Equatable {
    /// Time-weighted mean factor over the slot, kg CO2/kWh.
    public var kgPerKWh: Double
    /// Share of the slot's time whose factor came from rules 1–2.
    public var realtimeShare: Double
}

/// Real-time factors (`f`) and generation mix (`m`) per region, and the four-step resolution.
public struct FactorBook: Sendable {
    struct FactorEntry: Sendable { var start: Micros; var end: Micros; var value: Double }
    struct MixEntry: Sendable { var start: Micros; var end: Micros; var source: Source; var mwh: Double }
    struct ExchangeEntry: Sendable { var from: Int; var to: Int; var start: Micros; var end: Micros; var mwh: Double }
    /// What makes an exchange record the same as an earlier one (an exact repeat replaces it).
    struct ExchangeKey: Hashable, Sendable { var from: Int; var to: Int; var start: Micros; var end: Micros }

    /// Per region, `f` records sorted by start (they never partly overlap).
    var factors: [[FactorEntry]]
    /// Per region, `m` records in arrival order.
    var mixes: [[MixEntry]]
    /// `x` records in arrival order (reference §9.1, §9.3).
    private(set) var exchanges: [ExchangeEntry] = []
    /// Where each exchange record is in ``exchanges``, so a repeat is found in O(1).
    private var exchangeIndex: [ExchangeKey: Int] = [:]
    /// Flow-traced solutions by instant (FactorBook+Flow.swift); emptied whenever a mix or exchange
    /// record arrives or is pruned, and when a factor table is replaced.
    let flowCache = FlowCache()
    public var annual: AnnualFactorTable { didSet { flowCache.clear() } }
    public var sources: SourceFactorTable { didSet { flowCache.clear() } }
    public let zone: Zone

    public init(annual: AnnualFactorTable, sources: SourceFactorTable, zone: Zone) {
        self.annual = annual
        self.sources = sources
        self.zone = zone
        factors = Array(repeating: [], count: Region.count)
        mixes = Array(repeating: [], count: Region.count)
    }

    /// Records a real-time factor. An exact repeat of `region,start,end` replaces the earlier value;
    /// any other overlap is refused (returns false: `overlapping_factor`).
    public mutating func addFactor(region: Int, start: Micros, end: Micros, value: Double) -> Bool {
        var list = factors[region]
        // First entry whose end is after `start`: the only candidates for overlap start there.
        var lo = 0, hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid].end <= start { lo = mid + 1 } else { hi = mid }
        }
        if lo < list.count && list[lo].start < end {
            if list[lo].start == start && list[lo].end == end {
                list[lo].value = value
                factors[region] = list
                return true
            }
            return false
        }
        list.insert(FactorEntry(start: start, end: end, value: value), at: lo)
        factors[region] = list
        return true
    }

    /// Records generation by source; a later record with the same `region,start,end,source` replaces the earlier.
    public mutating func addMix(region: Int, start: Micros, end: Micros, source: Source, mwh: Double) {
        if let i = mixes[region].firstIndex(where: { $0.start == start && $0.end == end && $0.source == source }) {
            mixes[region][i].mwh = mwh
        } else {
            mixes[region].append(MixEntry(start: start, end: end, source: source, mwh: mwh))
        }
        flowCache.clear()
    }

    /// Records a physical exchange (reference §9.1); a later record with the same
    /// `from,to,start,end` replaces the earlier, other overlaps add up (as `m` records do).
    public mutating func addExchange(from: Int, to: Int, start: Micros, end: Micros, mwh: Double) {
        let key = ExchangeKey(from: from, to: to, start: start, end: end)
        if let i = exchangeIndex[key] {
            exchanges[i].mwh = mwh
        } else {
            exchangeIndex[key] = exchanges.count
            exchanges.append(ExchangeEntry(from: from, to: to, start: start, end: end, mwh: mwh))
        }
        flowCache.clear()
    }

    /// Replaces every exchange record (checkpoint restore).
    mutating func setExchanges(_ list: [ExchangeEntry]) {
        exchanges = list
        reindexExchanges()
        flowCache.clear()
    }

    private mutating func reindexExchanges() {
        exchangeIndex.removeAll(keepingCapacity: true)
        for (i, x) in exchanges.enumerated() { exchangeIndex[ExchangeKey(from: x.from, to: x.to, start: x.start, end: x.end)] = i }
    }

    /// Forgets what can no longer matter: mix records that ended a day before `closedBefore`
    /// (every slot they touch is closed; kept a day so the factor basis of the last day's closed
    /// hours can still be told, reference §6 `GET /v1/factors?at=`) and real-time factors a week
    /// older than that (kept that long so that overlaps with recent ones are still refused).
    public mutating func prune(closedBefore: Micros) {
        // Mix and exchange records are kept a day after their slots close, so that the factor and
        // its basis of a closed hour can still be shown (`GET /v1/factors?at=`, the dashboard).
        let mixHorizon = closedBefore &- Time.microsPerDay
        if !exchanges.isEmpty, exchanges.contains(where: { $0.end <= mixHorizon }) {
            exchanges.removeAll { $0.end <= mixHorizon }
            reindexExchanges()
            flowCache.clear()
        }
        for r in 0..<Region.count {
            if mixes[r].contains(where: { $0.end <= mixHorizon }) {
                mixes[r].removeAll { $0.end <= mixHorizon }
                flowCache.clear()
            }
            let horizon = closedBefore &- 7 * Time.microsPerDay
            if let first = factors[r].first, first.end <= horizon {
                factors[r].removeAll { $0.end <= horizon }
            }
        }
    }

    /// The factor of `region` over `[start, end)`: the time-weighted mean of the factor in force at
    /// each instant, from the first of rules 1–4 that covers it.
    public func slotFactor(region: Int, start: Micros, end: Micros) -> SlotFactor {
        let localYear = Time.civilFromDays(zone.localDay(start)).year
        let base = annual.factor(region: region, year: localYear).value
        let fs = factors[region], ms = mixes[region]
        if fs.isEmpty && ms.isEmpty { return SlotFactor(kgPerKWh: base, realtimeShare: 0) }
        // With exchange records in the slot, a mix-derived factor is flow-traced (reference §9.3)
        // and depends on every province's mix: cut at all of their boundaries.
        let traced = !ms.isEmpty && exchanges.contains { $0.start < end && $0.end > start }
        // Breakpoints inside the slot: the factor is constant between consecutive ones.
        var cuts: [Micros] = [start, end]
        for f in fs where f.start < end && f.end > start {
            if f.start > start { cuts.append(f.start) }
            if f.end < end { cuts.append(f.end) }
        }
        for m in ms where m.start < end && m.end > start {
            if m.start > start { cuts.append(m.start) }
            if m.end < end { cuts.append(m.end) }
        }
        if traced { flowCuts(start: start, end: end, into: &cuts) }
        cuts.sort()
        let length = Double(end - start)
        var weighted = 0.0
        var realtime: Micros = 0
        var prev = cuts[0]
        for c in cuts.dropFirst() where c > prev {
            let (v, rt) = factorAt(region: region, instant: prev, fs: fs, ms: ms, base: base, traced: traced)
            weighted += v * Double(c - prev)
            if rt { realtime += c - prev }
            prev = c
        }
        return SlotFactor(kgPerKWh: weighted / length, realtimeShare: Double(realtime) / length)
    }

    /// The factor in force at one instant and whether it is real-time (rules 1–2).
    private func factorAt(region: Int, instant t: Micros, fs: [FactorEntry], ms: [MixEntry], base: Double, traced: Bool) -> (Double, Bool) {
        for f in fs where f.start <= t && t < f.end { return (f.value, true) }
        if traced, let c = flowTracedFactor(region: region, at: t) { return (c, true) }
        // Mix: weight each source by its average power over its own record (MWh / h), so records of
        // different lengths mix correctly; with equal lengths this is the spec's sum(mwh*ef)/sum(mwh).
        var num = 0.0, den = 0.0
        for m in ms where m.start <= t && t < m.end {
            let power = m.mwh / (Double(m.end - m.start) / Double(Time.microsPerHour))
            num += power * sources.values[m.source.rawValue]
            den += power
        }
        if den > 0 { return (num / den, true) }
        return (base, false)
    }

    /// Every real-time factor and mix record currently held, for `GET /v1/factors` and `gridcarbon factors`.
    public func snapshot(region: Int) -> (factors: [(Micros, Micros, Double)], mixes: [(Micros, Micros, Source, Double)]) {
        (factors[region].map { ($0.start, $0.end, $0.value) }, mixes[region].map { ($0.start, $0.end, $0.source, $0.mwh) })
    }
}
