import ArgumentParser
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

    // `.unconditional`: `--reorder-window -5m` is a (refused) value, not a missing one.
    @Option(name: .customLong("reorder-window"), parsing: .unconditional, help: ArgumentHelp("How far behind the newest meter record the watermark trails. (default: 15m)", valueName: "duration"))
    var reorderWindow: String?

    @Option(name: .customLong("span-horizon"), parsing: .unconditional, help: ArgumentHelp("How long a slot stays open after its end, for long spans. (default: 1h)", valueName: "duration"))
    var spanHorizon: String?

    @Option(name: .customLong("max-gap"), parsing: .unconditional, help: ArgumentHelp("Register gaps longer than this raise a meter_gap anomaly. (default: 24h)", valueName: "duration"))
    var maxGap: String?

    @Option(name: .customLong("max-future"), parsing: .unconditional, help: ArgumentHelp("Meter records further ahead of the wall clock are rejected. (default: 15m)", valueName: "duration"))
    var maxFuture: String?

    @Option(name: .customLong("factors"), help: ArgumentHelp("Annual factor table replacing the embedded one (cn_grid_factors.csv layout).", valueName: "file"))
    var factorsFile: String?

    @Option(name: .customLong("source-factors"), help: ArgumentHelp("Per-source factors replacing the embedded ones (source_factors.csv layout).", valueName: "file"))
    var sourceFactorsFile: String?

    @Option(name: .customLong("source-basis"), help: ArgumentHelp("Which per-source factors to use: direct or lifecycle. (default: direct)", valueName: "basis"))
    var sourceBasis: String?

    @Option(help: ArgumentHelp("Carbon budgets CSV (level,key,period,budget_kg) for budget and forecast alert rules; overrides alerts.budgets in the config.", valueName: "file"))
    var budgets: String?

    /// The configuration file, read by ``load()``; empty without `--config`.
    var file: ConfigFile = .empty

    enum CodingKeys: String, CodingKey {
        case config, zone, resolution, windows, levels, reorderWindow, spanHorizon, maxGap, maxFuture, factorsFile, sourceFactorsFile, sourceBasis, budgets
    }

    /// Reads `--config` if given (exit status 2 with the reason when it cannot be used).
    mutating func load() throws {
        guard let config else { return }
        file = try ConfigFile.load(path: config)
    }

    /// The flags given, by the configuration key each overrides.
    var flags: [ConfigKey: String] {
        let given: [(ConfigKey, String?)] = [
            (.zone, zone), (.resolution, resolution), (.windows, windows), (.levels, levels),
            (.reorderWindow, reorderWindow), (.spanHorizon, spanHorizon), (.maxGap, maxGap), (.maxFuture, maxFuture),
            (.factors, factorsFile), (.sourceFactors, sourceFactorsFile), (.sourceBasis, sourceBasis),
        ]
        var out: [ConfigKey: String] = [:]
        for (k, v) in given { if let v { out[k] = v } }
        return out
    }

    func settings() throws -> EngineSettings {
        try EngineSettings(file: file, flags: flags)
    }

    func tables() throws -> (AnnualFactorTable, SourceFactorTable) {
        var annual = AnnualFactorTable.embedded
        var sources = SourceFactorTable.embedded
        if let path = file.value(.factors, flag: factorsFile) {
            let text = try readText(path)
            do { annual = try AnnualFactorTable(csv: text, origin: path) } catch { throw ConfigurationError(.badTable, message: "factor table \(error)") }
        }
        let sourcesPath = file.value(.sourceFactors, flag: sourceFactorsFile)
        let basis = file.value(.sourceBasis, flag: sourceBasis) ?? "direct"
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
        try file.alertSettings(engine: engine, budgetsOverride: budgets)
    }

    func readText(_ path: String) throws -> String {
        do { return String(decoding: try Files.read(path), as: UTF8.self) } catch { throw ConfigurationError(.unreadable, message: "\(error)") }
    }
}
