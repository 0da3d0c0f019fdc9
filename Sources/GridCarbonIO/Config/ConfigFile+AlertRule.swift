import GridCarbonEngine
import GridCarbonModel

extension ConfigFile {
    /// Element `index` of `alerts.rules` as a rule: its fields checked against the rule fields of
    /// ``ConfigKey``, errors naming the field's line.
    func rule(_ item: JSONNode, index i: Int) throws(ConfigurationError) -> AlertRule {
        func fail(_ key: String?, _ why: String) -> ConfigurationError {
            let at = key.flatMap { k in item.members?.first { $0.key == k }?.node.offset } ?? item.offset
            return ConfigurationError(.badRule, path: path, line: line(at: at), message: "rule \(i + 1): \(why)")
        }
        guard let members = item.members else { throw fail(nil, "a rule is a JSON object") }
        let fields = ConfigKey.ruleFields
        if let k = members.lazy.map(\.key).filter({ !fields.contains($0) }).min() {
            throw fail(k, "unknown field '\(k)' (known: \(fields.sorted().joined(separator: ", ")))")
        }
        /// A member's value; the last one when a key repeats (as JSON parsers do).
        func member(_ k: String) -> JSONScalar? { members.last { $0.key == k }?.node.scalar }
        func string(_ k: String) throws(ConfigurationError) -> String? {
            guard let v = member(k) else { return nil }
            guard case .string(let s) = v else { throw fail(k, "\(k) must be a string") }
            return s
        }
        func number(_ k: String) throws(ConfigurationError) -> Double? {
            guard let v = member(k) else { return nil }
            guard case .number(let n) = v, n.isFinite else { throw fail(k, "\(k) must be a number") }
            return n
        }
        func duration(_ k: String) throws(ConfigurationError) -> Micros? {
            guard let s = try string(k) else { return nil }
            guard let d = DurationFormat.parse(s), d > 0 else { throw fail(k, "\(k) '\(s)' is not a duration such as 15m, 1h, 1d") }
            return d
        }
        guard case .string(let name)? = member("name") else { throw fail("name", "needs a \"name\" (a string)") }
        guard case .string(let kindText)? = member("kind"), let kind = AlertKind(rawValue: kindText) else {
            throw fail("kind", "\"kind\" must be one of intensity, budget, forecast, data_quality")
        }
        var rule = AlertRule(name: name, kind: kind)
        if let s = try string("severity") {
            guard let v = AlertSeverity(rawValue: s) else { throw fail("severity", "severity must be info, warning or critical") }
            rule.severity = v
        }
        if let s = try string("level") {
            guard let l = Level(name: s) else { throw fail("level", "unknown level '\(s)'") }
            rule.level = l
        }
        if let s = try string("key") {
            guard Identifier.isValid(s) else { throw fail("key", "key '\(s)' is not an identifier") }
            rule.key = s
        }
        rule.window = try duration("window")
        if let v = try number("threshold") { rule.threshold = v }
        if let v = try number("hysteresis") { rule.hysteresis = v }
        if let v = try number("warn_ratio") { rule.warnRatio = v }
        if let s = try string("period") {
            guard let p = BudgetPeriod(rawValue: s) else { throw fail("period", "period must be day, month or year") }
            rule.period = p
        }
        if let d = try duration("lookback") { rule.lookback = d }
        if let d = try duration("silent_after") { rule.silentAfter = d }
        rule.maxAnomalyRate = try number("max_anomaly_rate")
        return rule
    }
}
