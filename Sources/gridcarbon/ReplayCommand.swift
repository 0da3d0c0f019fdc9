import ArgumentParser
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the engine over record files, then end the input: every window is closed and written.",
        discussion: """
        Reads record lines (CSV `r,meter,ts,kwh` / `i,meter,start,end,kwh` / `f,region,start,end,kg_per_kwh` / \
        `m,region,start,end,source,mwh`, or the same as NDJSON) from each INPUT in order. `.zst` files are \
        decompressed; `-` reads standard input. Writes the same files `serve` would:

          DATA/aggregates/window=15m/date=2026-11-18/1015.csv.zst   one zstd CSV per window
          DATA/rejected/*.ndjson.zst   lines that were refused, with the reason
          DATA/late/*.ndjson.zst       records behind the watermark, and late_span parts
          DATA/anomalies/*.ndjson.zst  register resets, implausible jumps, gaps

        Rejected lines do not make it fail: it exits 0 once the input is processed, 1 when an input or \
        the registry cannot be read, 2 on bad options.

        Examples:
          gridcarbon replay --registry sim/registry.csv --data out sim/records.csv
          zstdcat day.csv.zst | gridcarbon replay --registry registry.csv -
          gridcarbon cat out --level province --window 1d
        """
    )

    @Option(help: ArgumentHelp("Meter registry CSV: meter_id,region,city,park,enterprise,industry,max_kw.", valueName: "file"))
    var registry: String?

    @Option(help: ArgumentHelp("Output folder. (default: ./gridcarbon-data)", valueName: "dir"))
    var data: String?

    @OptionGroup(title: "Engine settings")
    var engine: SettingsOptions

    @Flag(name: .customLong("no-progress"), help: "Do not draw progress on a terminal.")
    var noProgress = false

    @Flag(name: .customLong("no-fsync"), help: "Skip fsync of aggregate files (faster; for scratch runs).")
    var noFsync = false

    @Argument(help: ArgumentHelp("Record files in order (.zst decompressed, - for standard input).", valueName: "input"))
    var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one INPUT file (or - for standard input)") }
    }

    func run() async throws {
        var engine = self.engine
        try engine.load()
        let settings = try engine.settings()
        let (annual, sources) = try engine.tables()
        guard let registry = engine.file.value(.registry, flag: registry) else {
            throw ValidationError("give the meter registry: --registry FILE (or \"registry\" in the --config file)")
        }
        let data = engine.file.value(.data, flag: self.data) ?? "./gridcarbon-data"
        var job = ReplayJob(registryPath: registry, dataDirectory: data, inputs: inputs, settings: settings, annual: annual, sources: sources)
        job.sync = !noFsync
        job.alerts = try engine.alertSettings(settings)
        let showProgress = !noProgress && Clock.stderrIsTerminal
        var lastDraw = 0.0
        let formatter = TimeFormatter(zone: settings.zone)
        let summary: ReplaySummary
        do {
            summary = try Replay.run(job, progress: showProgress ? { p in
                if p.seconds - lastDraw < 0.25 { return }
                lastDraw = p.seconds
                let w = p.watermark > Time.distantPast ? formatter.string(p.watermark) : "-"
                let pct = p.fraction.map { " \(Int($0 * 100))%" } ?? ""
                printError("\r\u{1B}[K\(p.input)\(pct): \(Format.count(Int(p.lines))) lines, \(Format.rate(Double(p.lines) / max(p.seconds, 1e-9)))/s, watermark \(w), \(p.windows) windows, \(Format.count(p.counts.rejected)) rejected, \(Format.count(p.counts.late)) late")
            } : nil)
        } catch {
            if showProgress { printError("\r\u{1B}[K") }
            throw error
        }
        if showProgress { printError("\r\u{1B}[K") }
        print(Format.summary(summary, data: data, settings: settings))
    }
}

enum Format {
    static func count(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    static func rate(_ r: Double) -> String {
        if r >= 1e6 { return NumberFormat.fixed(r / 1e6, decimals: 2) + "M" }
        if r >= 1e3 { return NumberFormat.fixed(r / 1e3, decimals: 1) + "k" }
        return NumberFormat.fixed(r, decimals: 0)
    }

    static func summary(_ s: ReplaySummary, data: String, settings: EngineSettings) -> String {
        var lines: [String] = []
        lines.append("replayed \(count(Int(s.lines))) lines (\(count(s.meters)) meters) in \(NumberFormat.fixed(s.seconds, decimals: 2)) s: \(rate(s.linesPerSecond)) lines/s")
        lines.append("  accepted   \(count(s.counts.accepted))")
        lines.append("  duplicate  \(count(s.counts.duplicate))")
        lines.append("  rejected   \(count(s.counts.rejected))   (reasons in \(data)/rejected/)")
        lines.append("  late       \(count(s.counts.late))")
        let files = settings.windows.map { "\(DurationFormat.format($0)): \(s.filesWritten[$0] ?? 0)" }.joined(separator: ", ")
        lines.append("windows written \(s.filesWritten.values.reduce(0, +)) (\(files)) under \(data)/aggregates/")
        if s.alerts > 0 || s.activeAlerts > 0 {
            lines.append("alert events \(count(s.alerts)), \(count(s.activeAlerts)) still firing (gridcarbon alerts \(data))")
        }
        lines.append("anomalies \(count(s.anomalies)); late spans \(count(s.lateSpans)) (\(NumberFormat.string(s.lateSpanEnergy)) kWh)")
        return lines.joined(separator: "\n")
    }
}
