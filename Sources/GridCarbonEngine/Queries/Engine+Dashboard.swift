import GridCarbonModel

/// One budget and its period-to-date emissions, for the dashboard's gauges (reference §5, §6).
public struct BudgetGauge: Sendable, Equatable {
    public var level: Level
    public var key: String
    public var period: BudgetPeriod
    public var budgetKg: Double
    /// Emissions of the period so far (as the `budget` rules see them, at the last slot close).
    public var toDateKg: Double
    /// The warning ratio of the first `budget` rule that watches this budget.
    public var warnRatio: Double
}

extension Engine {
    /// Each province's factor over `[start, end)` and its §3.3 rule, by region index (index 0,
    /// the national grid, included).
    public func factorsInForce(start: Micros, end: Micros) -> [FactorInForce] {
        (0..<Region.count).map { factors.inForce(region: $0, start: start, end: end) }
    }

    /// Every budget a `budget` rule watches, in budget-file order, with its emissions to date.
    public func budgetGauges() -> [BudgetGauge] {
        guard let a = alerts else { return [] }
        var out: [BudgetGauge] = []
        var seen = Set<Int>()
        for check in a.checks where !check.forecast && seen.insert(check.target * 3 + check.period).inserted {
            let t = a.targets[check.target]
            let toDate = a.toDate.indices.contains(check.target * 3 + check.period) ? a.toDate[check.target * 3 + check.period] : 0
            out.append(BudgetGauge(level: t.level, key: t.name, period: BudgetPeriod.allCases[check.period],
                                   budgetKg: check.budget, toDateKg: toDate, warnRatio: check.warnRatio))
        }
        return out
    }
}

extension RunningTotals {
    /// Today's energy and emissions per key of `level` among the meters of province `region`
    /// (key index to period; keys without any such meter are absent).
    public func day(level: Level, region: Int, registry: Registry) -> [Int: Period] {
        var out: [Int: Period] = [:]
        for (p, profile) in registry.profiles.enumerated() where Int(profile.region) == region && p < dayTotals.count {
            let key = Int(profile.key(level))
            if key < 0 { continue }
            out[key, default: Period()].energy += dayTotals[p].energy
            out[key, default: Period()].co2 += dayTotals[p].co2
        }
        return out
    }
}
