import GridCarbonModel

/// The rules and budgets in force, in the alert state of the engine checkpoint.
extension AlertSettings {
    /// Writes every rule and budget, field by field.
    func encode(_ w: inout ByteWriter) {
        w.i64(Int64(rules.count))
        for r in rules {
            w.string(r.name); w.string(r.kind.rawValue); w.string(r.severity.rawValue)
            w.i64(Int64(r.level?.rawValue ?? -1)); w.string(r.key ?? ""); w.i64(r.key == nil ? 0 : 1)
            w.i64(r.window ?? -1); w.f64(r.threshold); w.f64(r.hysteresis); w.f64(r.warnRatio)
            w.string(r.period?.rawValue ?? ""); w.i64(r.lookback); w.i64(r.silentAfter); w.f64(r.maxAnomalyRate ?? .nan)
        }
        w.i64(Int64(budgets.count))
        for b in budgets { w.i64(Int64(b.level.rawValue)); w.string(b.key); w.string(b.period.rawValue); w.f64(b.kg) }
    }

    /// Reads ``encode(_:)``'s bytes.
    static func decode(_ r: inout ByteReader) throws -> AlertSettings {
        var s = AlertSettings()
        for _ in 0..<(try r.count(each: 1, "entries")) {
            let name = try r.string()
            guard let kind = AlertKind(rawValue: try r.string()), let severity = AlertSeverity(rawValue: try r.string()) else {
                throw AlertStateError.corrupt("rule \(name)")
            }
            var rule = AlertRule(name: name, kind: kind)
            rule.severity = severity
            let level = try r.i64()
            rule.level = level < 0 ? nil : Level(rawValue: Int(level))
            let key = try r.string()
            rule.key = try r.i64() == 1 ? key : nil
            let window = try r.i64()
            rule.window = window < 0 ? nil : window
            rule.threshold = try r.f64(); rule.hysteresis = try r.f64(); rule.warnRatio = try r.f64()
            rule.period = BudgetPeriod(rawValue: try r.string())
            rule.lookback = try r.i64(); rule.silentAfter = try r.i64()
            let rate = try r.f64()
            rule.maxAnomalyRate = rate.isNaN ? nil : rate
            s.rules.append(rule)
        }
        for _ in 0..<(try r.count(each: 1, "entries")) {
            let level = try r.i64(), key = try r.string(), period = try r.string(), kg = try r.f64()
            guard let l = Level(rawValue: Int(level)), let p = BudgetPeriod(rawValue: period) else { throw AlertStateError.corrupt("budget \(key)") }
            s.budgets.append(Budget(level: l, key: key, period: p, kg: kg))
        }
        return s
    }
}
