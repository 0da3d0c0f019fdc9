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

    struct Active {
        var id: String
        var rule: Int
        var severity: AlertSeverity
        var level: Level
        var key: String
        var windowStart: Micros
        var windowEnd: Micros
        var startsAt: Micros
        var value: Double
        var threshold: Double
        var message: String
        var projected: Double?
        var breachAt: Micros?
    }
    /// Active alerts by internal key (see ``AlertEvaluator/alertKey``).
    var active: [Int64: Active] = [:]

    // MARK: Intensity

    struct IntensityRule {
        var rule: Int
        var lengthIndex: Int
        var level: Level
        /// Key index, -1 for every key, -2 for a key the registry does not know (never matches).
        var key: Int32
    }
    var intensity: [IntensityRule] = []
    /// Per window length: intensity rules for every key of a level.
    var unkeyedIntensity: [[Int]] = []
    /// Per window length and level (raw value), the rules of each key, flat: the rules of key `k`
    /// are `keyedList[li][keyedStart[li][level][k]..<keyedStart[li][level][k + 1]]`; no start
    /// array for a level without keyed rules. One array read per row, for any number of rules.
    var keyedStart: [[[Int32]]] = []
    var keyedList: [[Int32]] = []

    // MARK: Budgets

    /// A level and key with at least one budget.
    struct Target {
        var level: Level
        var keyIndex: Int32
        var name: String
        /// Budget per period (`BudgetPeriod.allCases` order), nil when none.
        var budget: [Double?]
    }
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
    struct QualityCounts {
        var window: Int64 = .min
        var readings: [Int32]
        var anomalies: [Int32]
    }
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
        unkeyedIntensity = engine.windows.map { _ in [] }
        keyedStart = engine.windows.map { _ in Level.allCases.map { _ in [] } }
        keyedList = engine.windows.map { _ in [] }
        for (i, ir) in intensity.enumerated() where ir.key == -1 { unkeyedIntensity[ir.lengthIndex].append(i) }
        for li in engine.windows.indices {
            for level in Level.allCases {
                let all = intensity
                let rules = all.indices.filter { all[$0].lengthIndex == li && all[$0].level == level && all[$0].key >= 0 }
                guard !rules.isEmpty else { continue }
                var perKey = [[Int32]](repeating: [], count: registry.keyNames[level.rawValue].count)
                for i in rules { perKey[Int(intensity[i].key)].append(Int32(i)) }
                var starts: [Int32] = [Int32(keyedList[li].count)]
                for list in perKey { keyedList[li].append(contentsOf: list); starts.append(Int32(keyedList[li].count)) }
                keyedStart[li][level.rawValue] = starts
            }
        }
        self.budgetRules = budgetRules
        self.forecastRules = forecastRules
        silentRules = silent
        anomalyRules = anomaly
        anomalyLengths = Array(Set(anomaly.map { $0.1 })).sorted()

        // Budget targets, in budget-file order of first appearance.
        if !budgetRules.isEmpty || !forecastRules.isEmpty {
            var index: [String: Int] = [:]
            for b in settings.budgets {
                let name = "\(b.level.name)\u{0}\(b.key)"
                let k = keyIndex(b.level, b.key)
                if k < 0 { continue }   // a key the registry does not know never has emissions
                let t = index[name] ?? {
                    targets.append(Target(level: b.level, keyIndex: k, name: b.key, budget: [nil, nil, nil]))
                    index[name] = targets.count - 1
                    return targets.count - 1
                }()
                targets[t].budget[BudgetPeriod.allCases.firstIndex(of: b.period)!] = b.kg
            }
            // Targets of each profile, flat: by level, the targets of the profile's key there.
            var byKey: [Level: [Int32: [Int32]]] = [:]
            for (t, target) in targets.enumerated() { byKey[target.level, default: [:]][target.keyIndex, default: []].append(Int32(t)) }
            let levels = Level.allCases.filter { byKey[$0] != nil }
            let maps = levels.map { byKey[$0]! }
            profileTargetStart = [0]
            profileTargetStart.reserveCapacity(registry.profiles.count + 1)
            for profile in registry.profiles {
                let from = profileTargets.count
                for (li, level) in levels.enumerated() {
                    if let ts = maps[li][profile.key(level)] { profileTargets.append(contentsOf: ts) }
                }
                if profileTargets.count - from > 1 { profileTargets[from...].sort() }
                profileTargetStart.append(Int32(profileTargets.count))
            }
            toDate = Array(repeating: 0, count: targets.count * 3)
            let lookback = forecastRules.map { settings.rules[$0].lookback }.max() ?? engine.slot
            ringSize = Int(lookback / engine.slot)
            ring = Array(repeating: 0, count: targets.count * ringSize)
            ringSlot = Array(repeating: .min, count: targets.count * ringSize)
            slotScratch = Array(repeating: 0, count: targets.count)
            buildChecks()
        }
        if tracksMeters {
            lastSeen = Array(repeating: Time.distantPast, count: registry.count)
            silentPending = silent.map { _ in [:] }
            silentEvaluated = silent.map { _ in Time.distantPast }
            qualityRing = engine.windows.map { len in
                var n = 16
                while Int64(n) < (engine.spanHorizon + engine.reorderWindow) / len + 4 { n <<= 1 }
                return n
            }
            quality = engine.windows.indices.map { li in
                Array(repeating: QualityCounts(readings: Array(repeating: 0, count: Region.count), anomalies: Array(repeating: 0, count: Region.count)), count: qualityRing[li])
            }
        }
    }

    // MARK: - Keys and events

    /// The internal key of an alert: rule, then a key, target or region, then a sub-kind.
    @inline(__always)
    static func alertKey(rule: Int, item: Int64, sub: Int) -> Int64 {
        Int64(rule) << 40 | item << 3 | Int64(sub)
    }

    func periodLabel(_ li: Int) -> String { DurationFormat.format(engine.windows[li]) }

    func alertID(rule: Int, level: Level, key: String, period: String) -> String {
        "\(settings.rules[rule].name)/\(level.name)/\(key)/\(period)"
    }

    /// Emits a firing event for `a` (new or changed severity) and records it.
    func fire(_ k: Int64, _ a: Active) {
        active[k] = a
        emit(a, state: .firing, endsAt: nil)
    }

    /// Emits the resolution of the alert at `k` with the value that resolved it.
    func resolve(_ k: Int64, value: Double, windowStart: Micros, windowEnd: Micros, at t: Micros, message: String) {
        guard var a = active.removeValue(forKey: k) else { return }
        if let c = checkOfKey[k] { checkLevel[c] = 0 }
        a.value = value
        a.windowStart = windowStart
        a.windowEnd = windowEnd
        a.message = message
        a.projected = nil
        a.breachAt = nil
        emit(a, state: .resolved, endsAt: t)
    }

    func emit(_ a: Active, state: AlertState, endsAt: Micros?) {
        seq += 1
        let r = settings.rules[a.rule]
        sink.alert(AlertEvent(seq: seq, id: a.id, rule: r.name, kind: r.kind, severity: a.severity, state: state,
                              level: a.level, key: a.key, value: a.value, threshold: a.threshold,
                              windowStart: a.windowStart, windowEnd: a.windowEnd, startsAt: a.startsAt, endsAt: endsAt,
                              message: a.message, projected: a.projected, breachAt: a.breachAt))
    }

    static func fmt(_ v: Double) -> String {
        var b: [UInt8] = []
        NumberFormat.append(v, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    // MARK: - Windows (intensity, data quality)

    /// A window closed with `rows` (sorted by level, then key name).
    func windowClosed(_ w: ClosedWindow) {
        if !intensity.isEmpty { evaluateIntensity(w) }
        if tracksMeters { evaluateQuality(w) }
    }

    func evaluateIntensity(_ w: ClosedWindow) {
        let li = w.lengthIndex
        let unkeyed = unkeyedIntensity[li], starts = keyedStart[li], list = keyedList[li]
        if unkeyed.isEmpty && list.isEmpty { return }
        // Rows come sorted by level, then key name; rules apply in that row order, then rule order.
        for row in w.rows {
            guard row.energy > 0 else { continue }
            for i in unkeyed where intensity[i].level == row.level { evaluateIntensity(intensity[i], row, w) }
            let s = starts[row.level.rawValue]
            if !s.isEmpty && Int(row.key) + 1 < s.count {
                for j in Int(s[Int(row.key)])..<Int(s[Int(row.key) + 1]) { evaluateIntensity(intensity[Int(list[j])], row, w) }
            }
        }
    }

    func evaluateIntensity(_ ir: IntensityRule, _ row: AggregateRow, _ w: ClosedWindow) {
        let rule = settings.rules[ir.rule]
        let value = row.co2 / row.energy
        let k = Self.alertKey(rule: ir.rule, item: Int64(row.key), sub: 0)
        if active[k] == nil {
            guard value > rule.threshold else { return }
            let name = registry.keyNames[ir.level.rawValue][Int(row.key)]
            fire(k, Active(id: alertID(rule: ir.rule, level: ir.level, key: name, period: periodLabel(ir.lengthIndex)),
                           rule: ir.rule, severity: rule.severity, level: ir.level, key: name,
                           windowStart: w.start, windowEnd: w.end, startsAt: w.end, value: value, threshold: rule.threshold,
                           message: "\(ir.level.name) \(name): intensity \(Self.fmt(value)) kg/kWh over \(periodLabel(ir.lengthIndex)) is above \(Self.fmt(rule.threshold))"))
        } else if value < rule.threshold * (1 - rule.hysteresis) {
            let name = registry.keyNames[ir.level.rawValue][Int(row.key)]
            resolve(k, value: value, windowStart: w.start, windowEnd: w.end, at: w.end,
                    message: "\(ir.level.name) \(name): intensity \(Self.fmt(value)) kg/kWh is back below \(Self.fmt(rule.threshold * (1 - rule.hysteresis)))")
        }
    }

    // MARK: - Slots (budget, forecast)

    /// One budget or forecast rule applied to one budget (a target and a period), precomputed so
    /// a slot close walks a flat array.
    struct Check {
        var rule: Int
        var target: Int
        var period: Int
        var forecast: Bool
        var budget: Double
        var warnRatio: Double
        var hysteresis: Double
        /// Index of the rule's lookback (in slots) in ``AlertEvaluator/lookbacks``.
        var lookbackIndex: Int
        var lookbackHours: Double
        var key: Int64
    }

    func buildChecks() {
        let budgetAndForecast = budgetRules + forecastRules
        lookbacks = Set(forecastRules.map { Int(settings.rules[$0].lookback / engine.slot) }).sorted()
        trailing = Array(repeating: 0, count: targets.count * lookbacks.count)
        for t in 0..<targets.count {
            for (pi, period) in BudgetPeriod.allCases.enumerated() {
                guard let budget = targets[t].budget[pi] else { continue }
                for ri in budgetAndForecast {
                    let r = settings.rules[ri]
                    guard (r.level == nil || r.level == targets[t].level) && (r.key == nil || r.key == targets[t].name)
                            && (r.period == nil || r.period == period) else { continue }
                    checks.append(Check(rule: ri, target: t, period: pi, forecast: r.kind == .forecast, budget: budget,
                                        warnRatio: r.warnRatio, hysteresis: r.hysteresis,
                                        lookbackIndex: lookbacks.firstIndex(of: Int(r.lookback / engine.slot)) ?? 0,
                                        lookbackHours: Double(r.lookback) / Double(Time.microsPerHour),
                                        key: Self.alertKey(rule: ri, item: Int64(t), sub: pi)))
                }
            }
        }
        checks.sort { ($0.target, $0.period, $0.forecast ? 1 : 0, $0.rule) < ($1.target, $1.period, $1.forecast ? 1 : 0, $1.rule) }
        checkLevel = Array(repeating: 0, count: checks.count)
        for (c, check) in checks.enumerated() { checkOfKey[check.key] = c }
    }

    /// Slot `s` = `[start, end)` closed with `co2` kg per profile.
    func slotClosed(_ s: Int64, start: Micros, end: Micros, co2: UnsafeBufferPointer<Double>) {
        guard !targets.isEmpty else { return }
        rollOver(start)
        slotScratch.withUnsafeMutableBufferPointer { scratch in
            for t in scratch.indices { scratch[t] = 0 }
            profileTargetStart.withUnsafeBufferPointer { starts in
                profileTargets.withUnsafeBufferPointer { list in
                    for p in 0..<min(co2.count, starts.count - 1) where co2[p] != 0 {
                        for i in Int(starts[p])..<Int(starts[p + 1]) { scratch[Int(list[i])] += co2[p] }
                    }
                }
            }
            toDate.withUnsafeMutableBufferPointer { td in
                for t in scratch.indices {
                    let c = scratch[t]
                    td[t * 3] += c; td[t * 3 + 1] += c; td[t * 3 + 2] += c
                }
            }
        }
        fillGap(before: s)
        push(slot: s, values: slotScratch)
        let ends = (periodBounds(.day).1, periodBounds(.month).1, periodBounds(.year).1)
        // Most checks change nothing: find those that do in one pass over flat arrays, then act on
        // them in check order. Acting on a check changes only its own level and alert, so the
        // outcome is that of evaluating every check in turn.
        changing.removeAll(keepingCapacity: true)
        let nl = lookbacks.count
        toDate.withUnsafeBufferPointer { td in
            trailing.withUnsafeBufferPointer { tr in
                checkLevel.withUnsafeBufferPointer { lv in
                    checks.withUnsafeBufferPointer { ck in
                        for c in 0..<ck.count {
                            let check = ck[c]
                            let value = td[check.target * 3 + check.period]
                            let current = lv[c]
                            if check.forecast {
                                let periodEnd = check.period == 0 ? ends.0 : check.period == 1 ? ends.1 : ends.2
                                let firing = current > 0
                                if !firing && value >= check.budget { continue }
                                let (rate, projected) = Self.projection(toDate: value, trailing: Self.kg(milli: tr[check.target * nl + check.lookbackIndex]),
                                                                        lookbackHours: check.lookbackHours, end: end, periodEnd: periodEnd)
                                if firing ? (value < check.budget && projected < check.budget * (1 - check.hysteresis))
                                          : (projected >= check.budget && rate > 0) {
                                    changing.append(Int32(c))
                                }
                            } else if Self.budgetLevel(value, check) > current
                                        || (current > 0 && value < check.warnRatio * check.budget * (1 - check.hysteresis)) {
                                changing.append(Int32(c))
                            }
                        }
                    }
                }
            }
        }
        for c32 in changing {
            let c = Int(c32)
            let check = checks[c]
            let periodEnd = check.period == 0 ? ends.0 : check.period == 1 ? ends.1 : ends.2
            if check.forecast {
                evaluateForecast(c, check, end: end, periodEnd: periodEnd)
            } else {
                evaluateBudget(c, check, end: end)
            }
        }
    }

    /// The level a budget check is at: 0 below the warning ratio, 1 at or above it, 2 at the budget.
    @inline(__always)
    static func budgetLevel(_ value: Double, _ check: Check) -> UInt8 {
        value >= check.budget ? 2 : value >= check.warnRatio * check.budget ? 1 : 0
    }

    /// A forecast: the trailing rate (kg/h, from the `trailing` kg of the lookback) and the period
    /// total it projects.
    @inline(__always)
    static func projection(toDate: Double, trailing: Double, lookbackHours: Double, end: Micros, periodEnd: Micros) -> (rate: Double, projected: Double) {
        let rate = trailing / lookbackHours
        let remaining = Double(periodEnd - end) / Double(Time.microsPerHour)
        return (rate, toDate + rate * remaining)
    }

    func evaluateBudget(_ c: Int, _ check: Check, end: Micros) {
        let value = toDate[check.target * 3 + check.period]
        let level = Self.budgetLevel(value, check)
        let current = checkLevel[c]
        if level > current {
            let target = targets[check.target], period = BudgetPeriod.allCases[check.period]
            let (ps, pe) = periodBounds(period)
            let starts = active[check.key]?.startsAt ?? end
            let what = level == 2 ? "has reached" : "is at \(Self.fmt(value / check.budget * 100))% of"
            checkLevel[c] = level
            fire(check.key, Active(id: alertID(rule: check.rule, level: target.level, key: target.name, period: period.rawValue), rule: check.rule,
                                   severity: level == 2 ? .critical : .warning, level: target.level, key: target.name, windowStart: ps, windowEnd: pe,
                                   startsAt: starts, value: value, threshold: check.budget,
                                   message: "\(target.level.name) \(target.name): \(period.rawValue) emissions \(Self.fmt(value)) kg \(what) the budget of \(Self.fmt(check.budget)) kg"))
        } else if current > 0 && value < check.warnRatio * check.budget * (1 - check.hysteresis) {
            let target = targets[check.target], period = BudgetPeriod.allCases[check.period]
            let (ps, pe) = periodBounds(period)
            resolve(check.key, value: value, windowStart: ps, windowEnd: pe, at: end,
                    message: "\(target.level.name) \(target.name): \(period.rawValue) emissions \(Self.fmt(value)) kg are below \(Self.fmt(check.warnRatio * 100))% of the budget")
        }
    }

    func evaluateForecast(_ c: Int, _ check: Check, end: Micros, periodEnd: Micros) {
        let t = check.target
        let toDateValue = toDate[t * 3 + check.period]
        let firing = checkLevel[c] > 0
        // Nothing to decide: no alert while the budget is reached already, and a firing one
        // resolves only below the band.
        if !firing && toDateValue >= check.budget { return }
        let (rate, projected) = Self.projection(toDate: toDateValue, trailing: trailingSum(target: t, lookback: check.lookbackIndex),
                                                lookbackHours: check.lookbackHours, end: end, periodEnd: periodEnd)
        if !firing {
            guard projected >= check.budget && rate > 0 else { return }
            let target = targets[t], period = BudgetPeriod.allCases[check.period]
            let (ps, pe) = periodBounds(period)
            let hours = (check.budget - toDateValue) / rate
            let breach = end + Int64((hours * 3600).rounded(.up)) * Time.microsPerSecond
            let tf = TimeFormatter(zone: zone)
            checkLevel[c] = 1
            fire(check.key, Active(id: alertID(rule: check.rule, level: target.level, key: target.name, period: period.rawValue), rule: check.rule,
                                   severity: settings.rules[check.rule].severity, level: target.level, key: target.name, windowStart: ps, windowEnd: pe,
                                   startsAt: end, value: projected, threshold: check.budget,
                                   message: "\(target.level.name) \(target.name): at \(Self.fmt(rate)) kg/h the \(period.rawValue) is projected to end at \(Self.fmt(projected)) kg, over the budget of \(Self.fmt(check.budget)) kg, which would be reached at \(tf.string(breach))",
                                   projected: projected, breachAt: breach))
        } else if toDateValue < check.budget && projected < check.budget * (1 - check.hysteresis) {
            let target = targets[t], period = BudgetPeriod.allCases[check.period]
            let (ps, pe) = periodBounds(period)
            resolve(check.key, value: projected, windowStart: ps, windowEnd: pe, at: end,
                    message: "\(target.level.name) \(target.name): the \(period.rawValue) is now projected to end at \(Self.fmt(projected)) kg, within the budget of \(Self.fmt(check.budget)) kg")
        }
    }

    /// Slot `s` of every target into the ring (`values[t]` kg, nil for no emissions), with the
    /// trailing sums moved on by one slot: the new entry in, the one `lookbacks[j]` slots back out.
    func push(slot s: Int64, values: [Double]?) {
        let size = ringSize, nl = lookbacks.count, nt = targets.count
        let r = position(s)
        let leaving = lookbacks.map { position(s - Int64($0)) }
        ring.withUnsafeMutableBufferPointer { ring in
            ringSlot.withUnsafeMutableBufferPointer { ringSlot in
                trailing.withUnsafeMutableBufferPointer { trailing in
                    for t in 0..<nt {
                        let base = t * size
                        let v = values?[t] ?? 0
                        let vm = Self.milli(v)
                        // Read what leaves before writing: with the longest lookback it is this position.
                        for j in 0..<nl { trailing[t * nl + j] += vm - Self.milli(ring[base + leaving[j]]) }
                        ring[base + r] = v
                        ringSlot[base + r] = s
                    }
                }
            }
        }
        ringLast = s
    }

    /// Slots skipped since the last close held no energy anywhere: zeros in the ring, so that it
    /// always holds the last `ringSize` slots. A gap of the ring's length or more leaves only zeros.
    func fillGap(before s: Int64) {
        guard ringLast != .min, s - ringLast > 1 else { return }
        if s - ringLast - 1 < Int64(ringSize) {
            for k in (ringLast + 1)..<s { push(slot: k, values: nil) }
            return
        }
        for i in ring.indices { ring[i] = 0 }
        for i in trailing.indices { trailing[i] = 0 }
        for k in (s - Int64(ringSize))..<s {
            for t in 0..<targets.count { ringSlot[t * ringSize + position(k)] = k }
        }
        ringLast = s - 1
    }

    /// The trailing sums from the ring as it is (after a restore); equal to what ``push(slot:values:)``
    /// keeps, being sums of the same integers.
    func recomputeTrailing() {
        let nl = lookbacks.count
        trailing = Array(repeating: 0, count: targets.count * nl)
        guard ringLast != .min, ringSize > 0 else { return }
        for t in 0..<targets.count {
            for j in 0..<nl {
                var sum: Int64 = 0
                for k in 0..<lookbacks[j] { sum += Self.milli(ring[t * ringSize + position(ringLast - Int64(k))]) }
                trailing[t * nl + j] = sum
            }
        }
    }

    /// The emissions of `target` over the lookback `j` (``lookbacks``) up to the slot just closed.
    @inline(__always)
    func trailingSum(target t: Int, lookback j: Int) -> Double {
        Self.kg(milli: trailing[t * lookbacks.count + j])
    }

    /// Kilograms as whole milligrams, the unit of the trailing sums: integer sums come out the same
    /// whether kept slot by slot or recomputed, which floating point does not promise.
    @inline(__always)
    static func milli(_ kg: Double) -> Int64 {
        let x = (kg * 1_000_000).rounded()
        return x.isFinite ? Int64(max(-4e18, min(4e18, x))) : 0
    }

    /// Milligrams back to kilograms.
    @inline(__always)
    static func kg(milli: Int64) -> Double { Double(milli) / 1_000_000 }

    /// Ring position of slot `s`.
    @inline(__always)
    func position(_ s: Int64) -> Int { Int(UInt64(bitPattern: s) % UInt64(ringSize)) }

    /// `[start, end)` of the current local day, month or year.
    func periodBounds(_ period: BudgetPeriod) -> (Micros, Micros) {
        let off = zone.offsetMicros
        func at(_ days: Int) -> Micros { Int64(days) * Time.microsPerDay - off }
        switch period {
        case .day: return (at(day), at(day + 1))
        case .month:
            let y = month / 12, m = month % 12 + 1
            return (at(Time.daysFromCivil(year: y, month: m, day: 1)),
                    at(m == 12 ? Time.daysFromCivil(year: y + 1, month: 1, day: 1) : Time.daysFromCivil(year: y, month: m + 1, day: 1)))
        case .year: return (at(Time.daysFromCivil(year: year, month: 1, day: 1)), at(Time.daysFromCivil(year: year + 1, month: 1, day: 1)))
        }
    }

    /// Starts the periods of a slot starting at `start`: the budget and forecast alerts of a period
    /// that ended resolve at its end, and its to-date sums start again from zero.
    func rollOver(_ start: Micros) {
        let d = zone.localDay(start)
        if d == day { return }
        let c = Time.civilFromDays(d)
        let mo = c.year * 12 + c.month - 1
        var ended: [Int] = []
        if day != Int.min { ended.append(0) }
        if month != Int.min && mo != month { ended.append(1) }
        if year != Int.min && c.year != year { ended.append(2) }
        for pi in ended {
            let period = BudgetPeriod.allCases[pi]
            let (ps, pe) = periodBounds(period)
            for k in active.keys.sorted() where Int(k & 7) == pi {
                let ri = Int(k >> 40)
                let kind = settings.rules[ri].kind
                guard kind == .budget || kind == .forecast else { continue }
                let t = Int((k >> 3) & 0x1_FFFF_FFFF)
                let total = toDate[t * 3 + pi]
                resolve(k, value: total, windowStart: ps, windowEnd: pe, at: pe,
                        message: "\(targets[t].level.name) \(targets[t].name): the \(period.rawValue) ended with \(Self.fmt(total)) kg")
            }
            for t in 0..<targets.count { toDate[t * 3 + pi] = 0 }
        }
        day = d; month = mo; year = c.year
    }

    // MARK: - Data quality

    /// A record of meter `m` was processed: `at` is its time (`ts`; `end` for an interval), the
    /// time the meter was last heard from; `anomaly` when it raised one. `openFrom` is the start
    /// of the first slot not closed yet: windows ending at or before it are evaluated already.
    @inline(__always)
    func seen(meter m: Int, at t1: Micros, region: Int, register: Bool, anomaly: Bool, openFrom: Micros) {
        let t0 = lastSeen[m]
        lastSeen[m] = t1
        if t0 != Time.distantPast {
            for (i, sr) in silentRules.enumerated() {
                let sa = settings.rules[sr.rule].silentAfter
                if t1 - t0 > sa { silentGap(i, lengthIndex: sr.lengthIndex, from: t0 + sa, to: t1, region: region, openFrom: openFrom) }
            }
        }
        if register && !anomalyRules.isEmpty {
            for li in anomalyLengths {
                let w = Time.floorDiv(t1 &+ zone.offsetMicros, engine.windows[li])
                let slot = Int(UInt64(bitPattern: w) % UInt64(qualityRing[li]))
                if quality[li][slot].window != w {
                    quality[li][slot].window = w
                    for r in 0..<Region.count { quality[li][slot].readings[r] = 0; quality[li][slot].anomalies[r] = 0 }
                }
                quality[li][slot].readings[region] += 1
                if anomaly { quality[li][slot].anomalies[region] += 1 }
            }
        }
    }

    /// Meter of `region` was silent over `(from, to)`: count it at every window end in there that is
    /// not evaluated yet. Every window end gets evaluated (``silentBefore(_:)`` takes those no window
    /// closed at), so what is counted here is taken soon after.
    func silentGap(_ i: Int, lengthIndex li: Int, from: Micros, to: Micros, region: Int, openFrom: Micros) {
        let len = engine.windows[li], off = zone.offsetMicros
        var w = Time.floorDiv(max(from, silentEvaluated[i]) &+ off, len) + 1
        while true {
            let e = w * len - off
            if e >= to { break }
            silentPending[i][e, default: Array(repeating: 0, count: Region.count)][region] += 1
            w += 1
        }
    }

    /// Silent-meter rules at the window ends before `b` that no closed window evaluated: ends where
    /// no meter of the whole fleet sent anything, as in an outage, which open no window. In end
    /// order, then rule order, so the events do not depend on how the watermark got here.
    func silentBefore(_ b: Micros) {
        guard !silentRules.isEmpty else { return }
        var due: [(end: Micros, rule: Int)] = []
        let off = zone.offsetMicros
        for (i, sr) in silentRules.enumerated() {
            let len = engine.windows[sr.lengthIndex]
            let last = Time.floorDiv(b &+ off &- 1, len)
            // From the end after the last one evaluated; the first time, the latest end only; after
            // a gap of more than 10,000 windows, its last 10,000.
            var first = silentEvaluated[i] == Time.distantPast ? last : Time.floorDiv(silentEvaluated[i] &+ off, len) + 1
            first = max(first, last - 9_999)
            if first > last { continue }
            for w in first...last { due.append((w * len - off, i)) }
        }
        due.sort { ($0.end, $0.rule) < ($1.end, $1.rule) }
        for d in due where d.end > silentEvaluated[d.rule] {
            let len = engine.windows[silentRules[d.rule].lengthIndex]
            evaluateSilent(d.rule, start: d.end - len, end: d.end)
        }
    }

    /// Silent rule `i` at window end `e` (the window `[start, e)`): meters whose last reading is
    /// older than `silent_after` there, per province, plus those whose gap a later reading closed.
    func evaluateSilent(_ i: Int, start: Micros, end e: Micros) {
        let sr = silentRules[i]
        let rule = settings.rules[sr.rule]
        let w = (start: start, end: e)
        var counts = silentPending[i].removeValue(forKey: e) ?? Array(repeating: 0, count: Region.count)
        for k in silentPending[i].keys where k < e { silentPending[i][k] = nil }
        silentEvaluated[i] = e
        let limit = e - rule.silentAfter
        let regions = registry.index!.region
        for m in 0..<min(lastSeen.count, registry.liveCount) {
            let t = lastSeen[m]
            if t != Time.distantPast && t < limit { counts[Int(regions[m])] += 1 }
        }
        for r in Region.provinces {
            let value = Double(counts[r])
            let k = Self.alertKey(rule: sr.rule, item: Int64(r), sub: 0)
            let code = Region.codes[r]
            if active[k] == nil {
                if value >= rule.threshold {
                    fire(k, Active(id: alertID(rule: sr.rule, level: .province, key: code, period: "silent"), rule: sr.rule,
                                   severity: rule.severity, level: .province, key: code, windowStart: w.start, windowEnd: w.end,
                                   startsAt: e, value: value, threshold: rule.threshold,
                                   message: "province \(code): \(counts[r]) meters silent for more than \(DurationFormat.format(rule.silentAfter)) at \(TimeFormatter(zone: zone).string(e))"))
                }
            } else if value < rule.threshold * (1 - rule.hysteresis) {
                resolve(k, value: value, windowStart: w.start, windowEnd: w.end, at: e,
                        message: "province \(code): \(counts[r]) meters silent, below \(Self.fmt(rule.threshold))")
            }
        }
    }

    func evaluateQuality(_ w: ClosedWindow) {
        for (i, sr) in silentRules.enumerated() where sr.lengthIndex == w.lengthIndex && w.end > silentEvaluated[i] {
            evaluateSilent(i, start: w.start, end: w.end)
        }
        for ar in anomalyRules where ar.lengthIndex == w.lengthIndex {
            let rule = settings.rules[ar.rule]
            let limit = rule.maxAnomalyRate ?? 1
            let index = Time.floorDiv(w.start &+ zone.offsetMicros, engine.windows[w.lengthIndex])
            let q = quality[w.lengthIndex][Int(UInt64(bitPattern: index) % UInt64(qualityRing[w.lengthIndex]))]
            guard q.window == index else { continue }
            for r in Region.provinces where q.readings[r] > 0 {
                let value = Double(q.anomalies[r]) / Double(q.readings[r])
                let k = Self.alertKey(rule: ar.rule, item: Int64(r), sub: 1)
                let code = Region.codes[r]
                if active[k] == nil {
                    if value > limit {
                        fire(k, Active(id: alertID(rule: ar.rule, level: .province, key: code, period: "anomaly_rate"), rule: ar.rule,
                                       severity: rule.severity, level: .province, key: code, windowStart: w.start, windowEnd: w.end,
                                       startsAt: w.end, value: value, threshold: limit,
                                       message: "province \(code): \(q.anomalies[r]) anomalies in \(q.readings[r]) register readings (\(Self.fmt(value * 100))%) over \(periodLabel(w.lengthIndex))"))
                    }
                } else if value < limit * (1 - rule.hysteresis) {
                    resolve(k, value: value, windowStart: w.start, windowEnd: w.end, at: w.end,
                            message: "province \(code): anomaly rate \(Self.fmt(value * 100))% is back below \(Self.fmt(limit * 100))%")
                }
            }
        }
    }
}
