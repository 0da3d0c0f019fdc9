import Foundation
import GridCarbonEngine
import GridCarbonModel

/// Reads alert rules from the `alerts` object of the daemon's JSON configuration and budgets from
/// their CSV (§5). Every error names the file and line.
///
/// ```json
/// "alerts": {
///   "budgets": "budgets.csv",
///   "rules": [
///     {"name": "intensity-high", "kind": "intensity", "level": "province", "window": "1h", "threshold": 0.8},
///     {"name": "budget", "kind": "budget", "warn_ratio": 0.8},
///     {"name": "forecast", "kind": "forecast", "lookback": "24h"},
///     {"name": "quality", "kind": "data_quality", "threshold": 10, "silent_after": "1h", "max_anomaly_rate": 0.01}
///   ]
/// }
/// ```
public enum AlertConfig {
    static let ruleKeys: Set<String> = ["name", "kind", "severity", "level", "key", "window", "threshold", "hysteresis", "warn_ratio",
                                        "period", "lookback", "silent_after", "max_anomaly_rate"]
    /// Keys of the `alerts` object this reader uses; the server adds its own (webhooks, alertmanager).
    public static let keys: Set<String> = ["rules", "budgets"]

    /// The rules and budgets of configuration `text` (read from `path`); budget paths are relative
    /// to the configuration file's folder. No `alerts` object: no rules.
    public static func load(text: String, path: String, engine: EngineSettings, budgetsOverride: String? = nil) throws(ConfigurationError) -> AlertSettings {
        // The rules (10,000 of them, maybe) are read by ``JSONScan`` without a dictionary per rule;
        // the rest of the document, small, by JSONSerialization.
        let bytes = Array(text.utf8)
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: Data(JSONScan.nulling(bytes, at: ["alerts", "rules"]))) } catch {
            throw ConfigurationError(.notJSON, path: path, message: "not valid JSON")
        }
        // Line numbers are only needed for an error: the text is walked then.
        func line(_ path: [String]) -> Int? { JSONScan.line(bytes, of: path) }
        var settings = AlertSettings()
        guard let object = root as? [String: Any], let alerts = object["alerts"] else {
            if let b = budgetsOverride { settings.budgets = try loadBudgets(path: b) }
            return settings
        }
        guard let a = alerts as? [String: Any] else {
            throw ConfigurationError(.badValue, path: path, line: line(["alerts"]), message: "alerts must be an object")
        }
        if a["rules"] != nil {
            let found: JSONScan.ObjectArray
            do { found = try JSONScan.objectArray(bytes, at: ["alerts", "rules"]) } catch {
                throw ConfigurationError(.notJSON, path: path, line: JSONScan.line(bytes, at: error.offset), message: "not valid JSON: \(error.message)")
            }
            guard case .elements(let list) = found else {
                throw ConfigurationError(.badRule, path: path, line: line(["alerts", "rules"]), message: "alerts.rules must be an array of rule objects")
            }
            settings.rules.reserveCapacity(list.count)
            for (i, item) in list.enumerated() {
                let at = ["alerts", "rules", "\(i)"]
                func fail(_ key: String?, _ why: String) -> ConfigurationError {
                    ConfigurationError(.badRule, path: path, line: line(key.map { at + [$0] } ?? at) ?? line(at), message: "rule \(i + 1): \(why)")
                }
                guard let members = item.members else { throw fail(nil, "a rule is a JSON object") }
                if let k = members.lazy.map(\.key).filter({ !ruleKeys.contains($0) }).min() {
                    throw fail(k, "unknown field '\(k)' (known: \(ruleKeys.sorted().joined(separator: ", ")))")
                }
                /// A member's value; the last one when a key repeats (as JSON parsers do).
                func member(_ k: String) -> JSONScalar? { members.last { $0.key == k }?.value }
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
                settings.rules.append(rule)
            }
            do { try settings.validate(engine: engine) } catch {
                let at = ["alerts", "rules", "\(error.ruleIndex)"]
                throw ConfigurationError(.badRule, path: path, line: line(at), message: "rule \(error.ruleIndex + 1): \(error.message)")
            }
        }
        for k in a.keys.sorted() where k != "rules" && k != "budgets" && !serverKeys.contains(k) {
            throw ConfigurationError(.unknownKey, path: path, line: line(["alerts", k]), message: "unknown key alerts.\(k)")
        }
        var budgetsPath = budgetsOverride
        if budgetsPath == nil, let b = a["budgets"] {
            guard let s = b as? String else {
                throw ConfigurationError(.badValue, path: path, line: line(["alerts", "budgets"]), message: "alerts.budgets must be the path of a CSV file")
            }
            budgetsPath = s.hasPrefix("/") ? s : (Files.dirname(of: path) + "/" + s)
        }
        if let b = budgetsPath { settings.budgets = try loadBudgets(path: b) }
        return settings
    }

    /// Keys of `alerts` read by the server (subscribers).
    public static let serverKeys: Set<String> = ["webhooks", "webhook_token", "alertmanager", "keep_alive"]

    /// Reads a budgets CSV (`level,key,period,budget_kg`).
    public static func loadBudgets(path: String) throws(ConfigurationError) -> [Budget] {
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch { throw ConfigurationError(.unreadable, path: path, message: "cannot read: \(error)") }
        return try parseBudgets(String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// Parses budgets CSV text; a duplicate `level,key,period` is an error.
    public static func parseBudgets(_ text: String, path: String) throws(ConfigurationError) -> [Budget] {
        struct Seen: Hashable { var level: Level; var key: String; var period: BudgetPeriod }
        let bytes = Array(text.utf8)
        var out: [Budget] = []
        var seen = Set<Seen>()
        var n = 0
        var start = 0
        // One line at a time, on bytes: a String is made only for the key (and for an error).
        while start <= bytes.count {
            let newline = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
            n += 1
            var line = bytes[start..<newline]
            start = newline + 1
            if line.last == 0x0D { line = line.dropLast() }
            func fail(_ why: String) -> ConfigurationError { ConfigurationError(.badBudget, path: path, line: n, message: why) }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let f = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map(trimmed)
            func text(_ i: Int) -> String { String(decoding: f[i], as: UTF8.self) }
            if n == 1 || (out.isEmpty && f.first.map({ $0.elementsEqual("level".utf8) }) == true) {
                guard f.count == 4, f[0].elementsEqual("level".utf8), f[1].elementsEqual("key".utf8),
                      f[2].elementsEqual("period".utf8), f[3].elementsEqual("budget_kg".utf8) else {
                    throw fail("the header must be level,key,period,budget_kg")
                }
                continue
            }
            guard f.count == 4 else { throw fail("expected 4 fields (level,key,period,budget_kg), found \(f.count)") }
            let key = text(1)
            guard let level = Level(name: text(0)) else { throw fail("unknown level '\(text(0))'") }
            guard Identifier.isValid(key) else { throw fail("key '\(key)' is not an identifier") }
            if level == .national && key != "CN" { throw fail("the national key is CN") }
            if level == .province && Region.codes.firstIndex(of: key).map({ $0 == 0 }) ?? true { throw fail("'\(key)' is not a province code such as CN-SD") }
            guard let period = BudgetPeriod(rawValue: text(2)) else { throw fail("period must be day, month or year") }
            guard let kg = Double(text(3)), kg.isFinite, kg > 0 else { throw fail("budget_kg must be a number above 0") }
            guard seen.insert(Seen(level: level, key: key, period: period)).inserted else { throw fail("a second budget for \(text(0)) \(key) \(text(2))") }
            out.append(Budget(level: level, key: key, period: period, kg: kg))
        }
        return out
    }

    /// `s` without leading and trailing spaces and tabs (a CSV field as written by hand).
    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let c = s.first, c == 0x20 || c == 0x09 { s = s.dropFirst() }
        while let c = s.last, c == 0x20 || c == 0x09 { s = s.dropLast() }
        return s
    }
}

extension AlertConfig {
    /// The settings as configuration JSON and budgets CSV that ``load(text:path:engine:budgetsOverride:)``
    /// and ``parseBudgets(_:path:)`` read back to equal settings (the daemon logs reloads this way).
    public static func canonical(_ s: AlertSettings) -> (json: String, budgets: String) {
        func quoted(_ v: String) -> String {
            var b: [UInt8] = []
            JSONBytes.appendString(v, to: &b)
            return String(decoding: b, as: UTF8.self)
        }
        let rules = s.rules.map { r -> String in
            var f = ["\"name\":\(quoted(r.name))", "\"kind\":\"\(r.kind.rawValue)\"", "\"severity\":\"\(r.severity.rawValue)\"",
                     "\"threshold\":\(r.threshold)", "\"hysteresis\":\(r.hysteresis)", "\"warn_ratio\":\(r.warnRatio)",
                     "\"lookback\":\"\(DurationFormat.format(r.lookback))\"", "\"silent_after\":\"\(DurationFormat.format(r.silentAfter))\""]
            if let l = r.level { f.append("\"level\":\"\(l.name)\"") }
            if let k = r.key { f.append("\"key\":\(quoted(k))") }
            if let w = r.window { f.append("\"window\":\"\(DurationFormat.format(w))\"") }
            if let p = r.period { f.append("\"period\":\"\(p.rawValue)\"") }
            if let a = r.maxAnomalyRate { f.append("\"max_anomaly_rate\":\(a)") }
            return "{" + f.joined(separator: ",") + "}"
        }
        let json = "{\"alerts\":{\"rules\":[\n" + rules.joined(separator: ",\n") + "\n]}}\n"
        var csv = "level,key,period,budget_kg\n"
        for b in s.budgets { csv += "\(b.level.name),\(b.key),\(b.period.rawValue),\(b.kg)\n" }
        return (json, csv)
    }

    /// Reads ``canonical(_:)``'s output.
    public static func fromCanonical(json: String, budgets: String, engine: EngineSettings) throws(ConfigurationError) -> AlertSettings {
        var s = try load(text: json, path: "logged alert rules", engine: engine)
        s.budgets = try parseBudgets(budgets, path: "logged budgets")
        return s
    }
}
