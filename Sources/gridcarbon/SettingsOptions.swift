import ArgumentParser
import GridCarbonIO
import GridCarbonModel

/// Engine settings every engine-running subcommand shares (§7 defaults).
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Zone windows are aligned to: a fixed offset such as +08:00, or Asia/Shanghai.", valueName: "zone"))
    var zone: String = "Asia/Shanghai"

    @Option(help: ArgumentHelp("Slot length.", valueName: "duration"))
    var resolution: String = "15m"

    @Option(help: ArgumentHelp("Window lengths, comma-separated, each a whole number of slots.", valueName: "lengths"))
    var windows: String = "15m,1h,1d"

    @Option(help: ArgumentHelp("Levels to aggregate: national,province,city,park,enterprise,industry,meter.", valueName: "levels"))
    var levels: String = "national,province,city,park,enterprise,industry"

    @Option(name: .customLong("reorder-window"), help: ArgumentHelp("How far behind the newest meter record the watermark trails.", valueName: "duration"))
    var reorderWindow: String = "15m"

    @Option(name: .customLong("span-horizon"), help: ArgumentHelp("How long a slot stays open after its end, for long spans.", valueName: "duration"))
    var spanHorizon: String = "1h"

    @Option(name: .customLong("max-gap"), help: ArgumentHelp("Register gaps longer than this raise a meter_gap anomaly.", valueName: "duration"))
    var maxGap: String = "24h"

    @Option(name: .customLong("max-future"), help: ArgumentHelp("Meter records further ahead of the wall clock are rejected.", valueName: "duration"))
    var maxFuture: String = "15m"

    @Option(name: .customLong("factors"), help: ArgumentHelp("Annual factor table replacing the embedded one (cn_grid_factors.csv layout).", valueName: "file"))
    var factorsFile: String?

    @Option(name: .customLong("source-factors"), help: ArgumentHelp("Per-source factors replacing the embedded ones (source_factors.csv layout).", valueName: "file"))
    var sourceFactorsFile: String?

    @Option(name: .customLong("source-basis"), help: ArgumentHelp("Which per-source factors to use: direct or lifecycle.", valueName: "basis"))
    var sourceBasis: String = "direct"

    func settings() throws -> EngineSettings {
        var s = EngineSettings()
        guard let z = Zone(parsing: zone) else { throw ValidationError("--zone '\(zone)' is not a fixed offset (+08:00) or a known zone (Asia/Shanghai, UTC)") }
        s.zone = z
        s.slot = try duration(resolution, "--resolution")
        s.windows = try windows.split(separator: ",").map { try duration(String($0), "--windows") }
        s.levels = try levels.split(separator: ",").map { name in
            guard let l = Level(name: String(name)) else { throw ValidationError("--levels: unknown level '\(name)' (national, province, city, park, enterprise, industry, meter)") }
            return l
        }
        s.reorderWindow = try duration(reorderWindow, "--reorder-window")
        s.spanHorizon = try duration(spanHorizon, "--span-horizon")
        s.maxGap = try duration(maxGap, "--max-gap")
        s.maxFuture = try duration(maxFuture, "--max-future")
        if let problem = s.validate() { throw ValidationError(problem) }
        return s
    }

    func tables() throws -> (AnnualFactorTable, SourceFactorTable) {
        var annual = AnnualFactorTable.embedded
        var sources = SourceFactorTable.embedded
        if let path = factorsFile {
            let text = try readText(path)
            do { annual = try AnnualFactorTable(csv: text, origin: path) } catch { throw ValidationError("factor table \(error)") }
        }
        if sourceFactorsFile != nil || sourceBasis != "direct" {
            let text = try sourceFactorsFile.map(readText) ?? EmbeddedData.sourceFactorsCSV
            do { sources = try SourceFactorTable(csv: text, basis: sourceBasis, origin: sourceFactorsFile ?? "embedded") } catch {
                throw ValidationError("source factor table \(error)")
            }
        }
        return (annual, sources)
    }

    func readText(_ path: String) throws -> String {
        do { return String(decoding: try Files.read(path), as: UTF8.self) } catch { throw ValidationError("\(error)") }
    }

    func duration(_ text: String, _ flag: String) throws -> Micros {
        guard let d = Duration.parse(text) else { throw ValidationError("\(flag) '\(text)' is not a duration such as 90s, 15m, 1h, 1d") }
        return d
    }
}
