import GridCarbonModel

/// `budget` rules, and the budget targets and checks that `budget` and `forecast` rules share:
/// at each slot close, the period-to-date emissions of a target against its budget.
extension AlertEvaluator {
    /// A level and key with at least one budget.
    struct Target {
        var level: Level
        var keyIndex: Int32
        var name: String
        /// Budget per period (`BudgetPeriod.allCases` order), nil when none.
        var budget: [Double?]
    }

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

    /// The budget targets (in budget-file order of first appearance), each profile's targets, the
    /// to-date sums and the ring, and the checks. `keyIndex` gives a key's index at a level (-2
    /// when the registry does not know it).
    func buildTargets(keyIndex: (Level, String) -> Int32) {
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

    /// One ``Check`` per budget rule or forecast rule and budget it applies to, in target, period,
    /// kind and rule order, and the forecast lookbacks.
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

    /// The level a budget check is at: 0 below the warning ratio, 1 at or above it, 2 at the budget.
    @inline(__always)
    static func budgetLevel(_ value: Double, _ check: Check) -> UInt8 {
        value >= check.budget ? 2 : value >= check.warnRatio * check.budget ? 1 : 0
    }

    /// Budget check `c` at the end of a slot: fires (or raises to critical) at the warning ratio and
    /// the budget, resolves below the warning ratio's hysteresis band.
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
}
