import GridCarbonModel

/// Evaluates the alert rules (§5) inside the engine, as slots and windows close, so the same input
/// raises the same events in `replay` and `serve`.
///
/// - `intensity`: at each closed window of the rule's length, per key of its level.
/// - `budget` and `forecast`: at each slot close, per budget target (a level and key with budgets),
///   from the target's period-to-date emissions and a ring of its per-slot emissions.
/// - `data_quality`: at each closed window of the rule's length, per province: meters silent at the
///   window's end, and anomalies per register reading inside the window.
///
/// Alerts are keyed internally by integers (rule, key or target, period); the checkpoint stores them
/// by names so a restart with other rules or budgets keeps what still applies.
final class AlertEvaluator {
    let settings: AlertSettings
    let engine: EngineSettings
    let zone: Zone
    let registry: Registry
    let sink: EngineSink
    /// Last event `seq` emitted.
    var seq: Int64 = 0

    /// Active alerts by internal key (see ``AlertEvaluator/alertKey``).
    var active: [Int64: Active] = [:]

    // MARK: Intensity

    var intensity: [IntensityRule] = []
    /// Per window length: intensity rules for every key of a level.
    var unkeyedIntensity: [[Int]] = []
    /// Per window length and level (raw value), the rules of each key, flat: the rules of key `k`
    /// are `keyedList[li][keyedStart[li][level][k]..<keyedStart[li][level][k + 1]]`; no start
    /// array for a level without keyed rules. One array read per row, for any number of rules.
    var keyedStart: [[[Int32]]] = []
    var keyedList: [[Int32]] = []

    // MARK: Budgets

    var targets: [Target] = []
    /// Targets of each profile: `profileTargets[profileTargetStart[p]..<profileTargetStart[p+1]]`.
    var profileTargetStart: [Int32] = []
    var profileTargets: [Int32] = []
    /// Period-to-date emissions per target and period (`t * 3 + period`).
    var toDate: [Double] = []
    /// Current local day, month (`year*12+month-1`) and year of the periods in ``toDate``.
    var day = Int.min, month = Int.min, year = Int.min
    /// Per-slot emissions of each target over the longest lookback: `ring[t * ringSize + i]`,
    /// with the slot index each entry belongs to in `ringSlot`.
    var ringSize = 0
    var ring: [Double] = []
    var ringSlot: [Int64] = []
    /// The last slot written to the ring.
    var ringLast: Int64 = .min
    var slotScratch: [Double] = []
    /// Targets whose sums came from earlier state (not to be seeded from the running totals).
    var seeded = Set<Int>()
    /// Whether ``lastSeen`` came from earlier state.
    var lastSeenSeeded = false
    let budgetRules: [Int]
    let forecastRules: [Int]
    var checks: [Check] = []
    /// Per check: 0 quiet, 1 firing (budget: warning), 2 critical.
    var checkLevel: [UInt8] = []
    var checkOfKey: [Int64: Int] = [:]
    /// The forecast rules' lookbacks in slots (distinct, ascending), and per target and lookback
    /// the emissions of its last slots in milligrams: `trailing[t * lookbacks.count + j]`.
    var lookbacks: [Int] = []
    var trailing: [Int64] = []
    /// Checks whose state changes at the slot being closed (scratch).
    var changing: [Int32] = []

    // MARK: Data quality

    /// Rules with a silent-meter threshold / an anomaly rate, and their window length index.
    let silentRules: [(rule: Int, lengthIndex: Int)]
    let anomalyRules: [(rule: Int, lengthIndex: Int)]
    /// Window lengths (indices) anomaly-rate rules use.
    let anomalyLengths: [Int]
    /// Last reading time per meter (`ts`; `end` for intervals), `Time.distantPast` when none yet.
    var lastSeen: [Micros] = []
    /// Per silent rule: meters found silent (gap closed by a later reading) at window ends not yet
    /// evaluated, by window end, per region.
    var silentPending: [[Micros: [Int32]]] = []
    /// Per silent rule: the last window end evaluated.
    var silentEvaluated: [Micros] = []
    /// Per window length: register readings and anomalies per window and region, in a ring of
    /// windows (`dqRing[li][w & mask]`).
    var quality: [[QualityCounts]] = []
    /// Ring size per window length: every window a drained reading can fall in before its window
    /// closes, `(span_horizon + reorder_window) / length` and some, a power of two.
    var qualityRing: [Int] = []
    var tracksMeters: Bool { !silentRules.isEmpty || !anomalyRules.isEmpty }

    init(settings: AlertSettings, engine: EngineSettings, registry: Registry, sink: EngineSink) {
        self.settings = settings
        self.engine = engine
        self.zone = engine.zone
        self.registry = registry
        self.sink = sink
        var budgetRules: [Int] = [], forecastRules: [Int] = []
        var silent: [(Int, Int)] = [], anomaly: [(Int, Int)] = []
        var keyByName: [Level: [String: Int32]] = [:]
        func keyIndex(_ level: Level, _ name: String) -> Int32 {
            if keyByName[level] == nil {
                var d: [String: Int32] = [:]
                for (i, n) in registry.keyNames[level.rawValue].enumerated() { d[n] = Int32(i) }
                keyByName[level] = d
            }
            return keyByName[level]![name] ?? -2
        }
        for (i, r) in settings.rules.enumerated() {
            let li = engine.windows.firstIndex(of: AlertSettings.window(of: r, engine: engine)) ?? 0
            switch r.kind {
            case .intensity:
                let level = r.level ?? .province
                intensity.append(IntensityRule(rule: i, lengthIndex: li, level: level, key: r.key.map { keyIndex(level, $0) } ?? -1))
            case .budget: budgetRules.append(i)
            case .forecast: forecastRules.append(i)
            case .dataQuality:
                if r.threshold > 0 { silent.append((i, li)) }
                if r.maxAnomalyRate != nil { anomaly.append((i, li)) }
            }
        }
        self.budgetRules = budgetRules
        self.forecastRules = forecastRules
        silentRules = silent
        anomalyRules = anomaly
        anomalyLengths = Array(Set(anomaly.map { $0.1 })).sorted()
        indexIntensityRules()
        if !budgetRules.isEmpty || !forecastRules.isEmpty { buildTargets(keyIndex: keyIndex) }
        if tracksMeters { startTrackingMeters() }
    }

    /// A window closed with `rows` (sorted by level, then key name).
    func windowClosed(_ w: ClosedWindow) {
        if !intensity.isEmpty { evaluateIntensity(w) }
        if tracksMeters { evaluateQuality(w) }
    }
}
