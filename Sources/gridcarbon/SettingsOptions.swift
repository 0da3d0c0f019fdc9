import ArgumentParser
import Configuration
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// Engine settings every engine-running subcommand shares (§7 defaults). Each comes from the flag,
/// else from the configuration file (`--config`, JSON), else from the specification's default.
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Configuration file (JSON); flags override it. Keys: zone, resolution, windows, levels, reorder_window, span_horizon, max_gap, max_future, factors, source_factors, source_basis, registry, data, alerts (rules, budgets, webhooks, alertmanager; see the README).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Zone windows are aligned to: a fixed offset such as +08:00, or Asia/Shanghai. (default: Asia/Shanghai)", valueName: "zone"))
    var zone: String?

    @Option(help: ArgumentHelp("Slot length. (default: 15m)", valueName: "duration"))
    var resolution: String?

    @Option(help: ArgumentHelp("Window lengths, comma-separated, each a whole number of slots. (default: 15m,1h,1d)", valueName: "lengths"))
    var windows: String?

    @Option(help: ArgumentHelp("Levels to aggregate: national,province,city,park,enterprise,industry,meter. (default: all but meter)", valueName: "levels"))
    var levels: String?

    @Option(name: .customLong("reorder-window"), help: ArgumentHelp("How far behind the newest meter record the watermark trails. (default: 15m)", valueName: "duration"))
    var reorderWindow: String?

    @Option(name: .customLong("span-horizon"), help: ArgumentHelp("How long a slot stays open after its end, for long spans. (default: 1h)", valueName: "duration"))
    var spanHorizon: String?

    @Option(name: .customLong("max-gap"), help: ArgumentHelp("Register gaps longer than this raise a meter_gap anomaly. (default: 24h)", valueName: "duration"))
    var maxGap: String?

    @Option(name: .customLong("max-future"), help: ArgumentHelp("Meter records further ahead of the wall clock are rejected. (default: 15m)", valueName: "duration"))
    var maxFuture: String?

    @Option(name: .customLong("factors"), help: ArgumentHelp("Annual factor table replacing the embedded one (cn_grid_factors.csv layout).", valueName: "file"))
    var factorsFile: String?

    @Option(name: .customLong("source-factors"), help: ArgumentHelp("Per-source factors replacing the embedded ones (source_factors.csv layout).", valueName: "file"))
    var sourceFactorsFile: String?

    @Option(name: .customLong("source-basis"), help: ArgumentHelp("Which per-source factors to use: direct or lifecycle. (default: direct)", valueName: "basis"))
    var sourceBasis: String?

    @Option(help: ArgumentHelp("Carbon budgets CSV (level,key,period,budget_kg) for budget and forecast alert rules; overrides alerts.budgets in the config.", valueName: "file"))
    var budgets: String?

    /// The configuration file's values, loaded by ``load()``.
    var file: ConfigFile = .empty

    enum CodingKeys: String, CodingKey {
        case config, zone, resolution, windows, levels, reorderWindow, spanHorizon, maxGap, maxFuture, factorsFile, sourceFactorsFile, sourceBasis, budgets
    }

    /// Reads `--config` if given (exit status 2 with the reason when it cannot be used).
    mutating func load() async throws {
        guard let config else { return }
        file = try await ConfigFile.load(path: config)
    }

    func value(_ flag: String?, _ key: String, _ fallback: String) -> String {
        flag ?? file.string(key) ?? fallback
    }

    func settings() throws -> EngineSettings {
        var s = EngineSettings()
        let zoneText = value(zone, "zone", "Asia/Shanghai")
        guard let z = Zone(parsing: zoneText) else { throw ValidationError("zone '\(zoneText)' is not a fixed offset (+08:00) or a known zone (Asia/Shanghai, UTC)") }
        s.zone = z
        s.slot = try duration(value(resolution, "resolution", "15m"), "resolution")
        s.windows = try value(windows, "windows", "15m,1h,1d").split(separator: ",").map { try duration(String($0), "windows") }
        s.levels = try value(levels, "levels", "national,province,city,park,enterprise,industry").split(separator: ",").map { name in
            guard let l = Level(name: String(name)) else { throw ValidationError("levels: unknown level '\(name)' (national, province, city, park, enterprise, industry, meter)") }
            return l
        }
        s.reorderWindow = try duration(value(reorderWindow, "reorder_window", "15m"), "reorder-window")
        s.spanHorizon = try duration(value(spanHorizon, "span_horizon", "1h"), "span-horizon")
        s.maxGap = try duration(value(maxGap, "max_gap", "24h"), "max-gap")
        s.maxFuture = try duration(value(maxFuture, "max_future", "15m"), "max-future")
        try s.validate()
        return s
    }

    func tables() throws -> (AnnualFactorTable, SourceFactorTable) {
        var annual = AnnualFactorTable.embedded
        var sources = SourceFactorTable.embedded
        if let path = factorsFile ?? file.string("factors") {
            let text = try readText(path)
            do { annual = try AnnualFactorTable(csv: text, origin: path) } catch { throw ConfigurationError(.badTable, message: "factor table \(error)") }
        }
        let sourcesPath = sourceFactorsFile ?? file.string("source_factors")
        let basis = value(sourceBasis, "source_basis", "direct")
        if sourcesPath != nil || basis != "direct" {
            let text = try sourcesPath.map(readText) ?? EmbeddedData.sourceFactorsCSV
            do { sources = try SourceFactorTable(csv: text, basis: basis, origin: sourcesPath ?? "embedded") } catch {
                throw ConfigurationError(.badTable, message: "source factor table \(error)")
            }
        }
        return (annual, sources)
    }

    /// Alert rules from the config file's `alerts` object and budgets (§5); errors name file and line.
    func alertSettings(_ engine: EngineSettings) throws -> AlertSettings {
        let text = try config.map(readText) ?? "{}"
        return try AlertConfig.load(text: text, path: config ?? "(no config)", engine: engine, budgetsOverride: budgets)
    }

    func readText(_ path: String) throws -> String {
        do { return String(decoding: try Files.read(path), as: UTF8.self) } catch { throw ConfigurationError(.unreadable, message: "\(error)") }
    }

    func duration(_ text: String, _ name: String) throws -> Micros {
        guard let d = DurationFormat.parse(text) else { throw ValidationError("\(name) '\(text)' is not a duration such as 90s, 15m, 1h, 1d") }
        return d
    }
}

/// The daemon's and replay's configuration file: JSON read through swift-configuration.
/// Durations and lists are strings (`"15m"`, `"15m,1h,1d"`); lists may also be JSON arrays.
struct ConfigFile: Sendable {
    static let keys: Set<String> = ["zone", "resolution", "windows", "levels", "reorder_window", "span_horizon", "max_gap", "max_future",
                                    "factors", "source_factors", "source_basis", "registry", "data",
                                    "tcp", "http", "tokens", "fsync", "idle_timeout", "max_line_bytes", "max_body_bytes",
                                    "checkpoint_bytes", "wal_segment_bytes", "alerts"]
    /// Keys allowed inside objects of the file, by path (`alerts` itself is checked by ``AlertConfig``).
    static let nestedKeys: [[String]: Set<String>] = [
        ["alerts", "alertmanager"]: ["url", "resend"],
    ]
    let reader: ConfigReader?

    static let empty = ConfigFile(reader: nil)

    static func load(path: String) async throws -> ConfigFile {
        guard Files.exists(path) else { throw ValidationError("config \(path): no such file") }
        let provider: FileProvider<GridCarbonJSONSnapshot>
        do {
            provider = try await FileProvider<GridCarbonJSONSnapshot>(filePath: .init(path))
        } catch {
            throw ValidationError("config \(path): not a valid JSON object of settings")
        }
        // Refuse unknown keys: a typo must not silently fall back to a default.
        let text = try Files.read(path)
        for key in JSONScan.objectKeys(text, at: []) where !keys.contains(key) {
            throw ValidationError("config \(path): unknown key '\(key)' (known: \(keys.sorted().joined(separator: ", ")))")
        }
        for (object, known) in nestedKeys {
            for key in JSONScan.objectKeys(text, at: object) where !known.contains(key) {
                throw ValidationError("config \(path): unknown key '\(key)' in \(object.joined(separator: ".")) (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        return ConfigFile(reader: ConfigReader(provider: provider))
    }

    func string(_ key: String) -> String? {
        guard let reader else { return nil }
        if let s = reader.string(forKey: ConfigKey(key)) { return s }
        if let list = reader.stringArray(forKey: ConfigKey(key)) { return list.joined(separator: ",") }
        return nil
    }

    /// A list of strings (a JSON array, or one string).
    func strings(_ key: String) -> [String]? {
        guard let reader else { return nil }
        if let list = reader.stringArray(forKey: ConfigKey(key)) { return list }
        return reader.string(forKey: ConfigKey(key)).map { [$0] }
    }
}
