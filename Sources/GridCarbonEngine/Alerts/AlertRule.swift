import GridCarbonModel

/// A budget period (§5).
public enum BudgetPeriod: String, Sendable, CaseIterable, Equatable {
    case day, month, year
}

/// One row of the budgets CSV: `level,key,period,budget_kg`.
public struct Budget: Sendable, Equatable {
    public var level: Level
    public var key: String
    public var period: BudgetPeriod
    public var kg: Double
    public init(level: Level, key: String, period: BudgetPeriod, kg: Double) {
        self.level = level; self.key = key; self.period = period; self.kg = kg
    }
}

/// One alert rule from the configuration (§5). Which fields matter depends on ``kind``.
public struct AlertRule: Sendable, Equatable {
    /// Unique name; the first part of every alert id the rule raises.
    public var name: String
    public var kind: AlertKind
    /// Severity of `intensity`, `forecast` and `data_quality` alerts (`budget` alerts are
    /// `warning` at `warnRatio`, `critical` at the budget).
    public var severity: AlertSeverity = .warning
    /// `intensity`: the level watched (default `province`). `budget`/`forecast`: only budgets of
    /// this level (nil: all). `data_quality`: always per province.
    public var level: Level?
    /// `intensity`: only this key (nil: every key of the level). `budget`/`forecast`: only this key.
    public var key: String?
    /// `intensity` and `data_quality`: the window length evaluated (nil: `1h` when configured,
    /// else the shortest window).
    public var window: Micros?
    /// `intensity`: kg CO2 per kWh; `data_quality`: the number of silent meters in a province.
    public var threshold: Double = 0
    /// A firing alert resolves only below `threshold * (1 - hysteresis)`.
    public var hysteresis: Double = 0.05
    /// `budget`: warning at this share of the budget.
    public var warnRatio: Double = 0.8
    /// `budget`/`forecast`: only budgets of this period (nil: all).
    public var period: BudgetPeriod?
    /// `forecast`: the trailing span of closed slots the emission rate is measured over.
    public var lookback: Micros = 24 * Time.microsPerHour
    /// `data_quality`: a meter is silent once it has sent nothing for this long (event time).
    public var silentAfter: Micros = Time.microsPerHour
    /// `data_quality`: fire when anomalies per register reading in a province's window exceed this.
    public var maxAnomalyRate: Double?

    public init(name: String, kind: AlertKind) {
        self.name = name
        self.kind = kind
    }
}

/// The alert rules and budgets in force.
public struct AlertSettings: Sendable, Equatable {
    public var rules: [AlertRule] = []
    public var budgets: [Budget] = []
    public init(rules: [AlertRule] = [], budgets: [Budget] = []) {
        self.rules = rules
        self.budgets = budgets
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// Checks every rule can run with `engine` settings.
    /// - Throws: ``AlertRuleError`` for the first rule that cannot, with its index; the message
    ///   names the rule.
    public func validate(engine: EngineSettings) throws(AlertRuleError) {
        var names = Set<String>()
        for (i, r) in rules.enumerated() { try Self.check(r, at: i, names: &names, engine: engine) }
    }

    /// Checks rule `r`, element `i` of the rules; `names` holds the names of the rules before it.
    static func check(_ r: AlertRule, at i: Int, names: inout Set<String>, engine: EngineSettings) throws(AlertRuleError) {
            if !Identifier.isValid(r.name) { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": a name is 1 to 64 of A-Z a-z 0-9 _ . : -") }
            if !names.insert(r.name).inserted { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": two rules have this name") }
            if let w = r.window, !engine.windows.contains(w) {
                throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": window \(DurationFormat.format(w)) is not one of the configured windows (\(engine.windows.map(DurationFormat.format).joined(separator: ",")))")
            }
            if !(0..<1).contains(r.hysteresis) { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": hysteresis must be at least 0 and below 1") }
            switch r.kind {
            case .intensity:
                if !(r.threshold > 0) || !r.threshold.isFinite { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": an intensity rule needs a threshold above 0 (kg CO2 per kWh)") }
                if case let l = r.level ?? .province, !engine.levels.contains(l) { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": level \(l.name) is not written (levels: \(engine.levels.map(\.name).joined(separator: ",")))") }
            case .budget:
                if !(r.warnRatio > 0 && r.warnRatio <= 1) { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": warn_ratio must be above 0 and at most 1") }
            case .forecast:
                if r.lookback < engine.slot || r.lookback % engine.slot != 0 || r.lookback > 31 * Time.microsPerDay {
                    throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": lookback must be a whole number of slots, at most 31 days")
                }
            case .dataQuality:
                if r.threshold <= 0 && r.maxAnomalyRate == nil {
                    throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": a data_quality rule needs a threshold (silent meters per province) or max_anomaly_rate")
                }
                if let a = r.maxAnomalyRate, !(a >= 0 && a <= 1) { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": max_anomaly_rate must be between 0 and 1") }
                if r.silentAfter <= 0 { throw AlertRuleError(ruleIndex: i, message: "rule \"\(r.name)\": silent_after must be positive") }
            }
    }

    /// The window length a rule evaluates.
    public static func window(of rule: AlertRule, engine: EngineSettings) -> Micros {
        if let w = rule.window { return w }
        if engine.windows.contains(Time.microsPerHour) { return Time.microsPerHour }
        return engine.windows.min() ?? engine.slot
    }
}
