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
    /// The rules and budgets of configuration `text` (read from `path`), through the one reader of
    /// the configuration file (``ConfigFile/alertSettings(engine:budgetsOverride:)``).
    public static func load(text: String, path: String, engine: EngineSettings, budgetsOverride: String? = nil) throws(ConfigurationError) -> AlertSettings {
        try ConfigFile(text: text, path: path).alertSettings(engine: engine, budgetsOverride: budgetsOverride)
    }

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
