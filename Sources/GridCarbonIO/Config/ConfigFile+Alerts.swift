import GridCarbonEngine
import GridCarbonModel

extension ConfigFile {
    /// The alert rules of `alerts.rules` and the budgets of `alerts.budgets` (or of
    /// `budgetsOverride`, the `--budgets` flag) (§5). Budget paths are relative to the
    /// configuration file's folder. No `alerts` object: no rules. Every error names the file and
    /// line.
    public func alertSettings(engine: EngineSettings, budgetsOverride: String? = nil) throws(ConfigurationError) -> AlertSettings {
        var settings = AlertSettings()
        guard let alerts = root[ConfigKey.alerts.name] else {
            if let b = budgetsOverride { settings.budgets = try AlertConfig.loadBudgets(path: b) }
            return settings
        }
        guard let members = alerts.members else {
            throw ConfigurationError(.badValue, path: path, line: line(at: alerts.offset), message: "alerts must be an object")
        }
        if let rules = alerts["rules"] {
            guard case .array(let list) = rules.value else {
                throw ConfigurationError(.badRule, path: path, line: line(at: rules.offset), message: "alerts.rules must be an array of rule objects")
            }
            settings.rules.reserveCapacity(list.count)
            for (i, item) in list.enumerated() {
                settings.rules.append(try rule(item, index: i))
            }
            do { try settings.validate(engine: engine) } catch {
                throw ConfigurationError(.badRule, path: path, line: line(at: list[error.ruleIndex].offset), message: "rule \(error.ruleIndex + 1): \(error.message)")
            }
        }
        let known = ConfigKey.names(in: ConfigKey.alerts.path)
        for k in Set(members.map(\.key)).sorted() where !known.contains(k) {
            throw ConfigurationError(.unknownKey, path: path, line: line(of: ["alerts", k]), message: "unknown key alerts.\(k)")
        }
        var budgetsPath = budgetsOverride
        if budgetsPath == nil, let b = alerts["budgets"] {
            guard case .string(let s) = b.value else {
                throw ConfigurationError(.badValue, path: path, line: line(at: b.offset), message: "alerts.budgets must be the path of a CSV file")
            }
            budgetsPath = s.hasPrefix("/") ? s : (Files.dirname(of: path) + "/" + s)
        }
        if let b = budgetsPath { settings.budgets = try AlertConfig.loadBudgets(path: b) }
        return settings
    }
}
