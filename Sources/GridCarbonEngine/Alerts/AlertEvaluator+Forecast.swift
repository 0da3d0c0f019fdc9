import GridCarbonModel

/// `forecast` rules: at each slot close, the period total projected from the trailing rate
/// against the budget.
extension AlertEvaluator {
    /// A forecast: the trailing rate (kg/h, from the `trailing` kg of the lookback) and the period
    /// total it projects.
    @inline(__always)
    static func projection(toDate: Double, trailing: Double, lookbackHours: Double, end: Micros, periodEnd: Micros) -> (rate: Double, projected: Double) {
        let rate = trailing / lookbackHours
        let remaining = Double(periodEnd - end) / Double(Time.microsPerHour)
        return (rate, toDate + rate * remaining)
    }

    /// Forecast check `c` at the end of a slot: fires when the projected period total reaches the
    /// budget, resolves when it is back within the hysteresis band.
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
}
