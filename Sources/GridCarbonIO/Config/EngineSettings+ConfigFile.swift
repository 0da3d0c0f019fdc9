import GridCarbonModel

extension EngineSettings {
    /// The engine settings of the configuration file, each overridden by its flag in `flags`
    /// (§7 defaults for the rest, from ``ConfigKey``).
    /// - Throws: ``ConfigurationError`` naming the setting (by its flag) that cannot be used.
    public init(file: ConfigFile, flags: [ConfigKey: String] = [:]) throws(ConfigurationError) {
        self.init()
        func value(_ key: ConfigKey) -> String { file.value(key, flag: flags[key]) ?? "" }
        func duration(_ text: String, _ key: ConfigKey) throws(ConfigurationError) -> Micros {
            guard let d = DurationFormat.parse(text) else {
                if text.hasPrefix("-"), DurationFormat.parse(String(text.dropFirst())) != nil {
                    throw ConfigurationError(.badValue, message: "\(key.label) '\(text)' must not be negative")
                }
                throw ConfigurationError(.badValue, message: "\(key.label) '\(text)' is not a duration such as 90s, 15m, 1h, 1d")
            }
            return d
        }
        let zoneText = value(.zone)
        guard let z = Zone(parsing: zoneText) else {
            throw ConfigurationError(.badValue, message: "zone '\(zoneText)' is not a fixed offset (+08:00) or a known zone (Asia/Shanghai, UTC)")
        }
        zone = z
        slot = try duration(value(.resolution), .resolution)
        windows = []
        for w in value(.windows).split(separator: ",") { windows.append(try duration(String(w), .windows)) }
        levels = []
        for name in value(.levels).split(separator: ",") {
            guard let l = Level(name: String(name)) else {
                throw ConfigurationError(.badValue, message: "levels: unknown level '\(name)' (national, province, city, park, enterprise, industry, meter)")
            }
            levels.append(l)
        }
        reorderWindow = try duration(value(.reorderWindow), .reorderWindow)
        spanHorizon = try duration(value(.spanHorizon), .spanHorizon)
        maxGap = try duration(value(.maxGap), .maxGap)
        maxFuture = try duration(value(.maxFuture), .maxFuture)
        do { try validate() } catch { throw ConfigurationError(.badValue, message: error.message) }
    }
}
