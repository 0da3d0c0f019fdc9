import GridCarbonEngine
import GridCarbonModel

/// What `gridcarbon replay` runs: the engine over files, then end of input.
public struct ReplayJob: Sendable {
    public var registryPath: String
    public var dataDirectory: String
    public var inputs: [String]
    public var settings: EngineSettings
    public var annual: AnnualFactorTable
    public var sources: SourceFactorTable
    /// Wall clock for the `future_timestamp` rule (read once, so a run is repeatable).
    public var now: Micros
    /// fsync aggregate files (on by default; tests may turn it off for speed).
    public var sync = true
    public var maxLineBytes = 1 << 20
    /// Alert rules and budgets (§5); the run writes its alert log to `<data>/alerts/`.
    public var alerts = AlertSettings()

    public init(registryPath: String, dataDirectory: String, inputs: [String], settings: EngineSettings = EngineSettings(),
                annual: AnnualFactorTable = .embedded, sources: SourceFactorTable = .embedded, now: Micros = Clock.now()) {
        self.registryPath = registryPath
        self.dataDirectory = dataDirectory
        self.inputs = inputs
        self.settings = settings
        self.annual = annual
        self.sources = sources
        self.now = now
    }
}

/// The outcome of a replay, for the summary line and for tests.
public struct ReplaySummary: Sendable {
    public var counts: LineCounts
    public var lines: Int64
    public var bytes: Int
    public var seconds: Double
    public var filesWritten: [Micros: Int]
    public var anomalies: Int
    public var lateSpans: Int
    public var lateSpanEnergy: Double
    public var meters: Int
    /// Alert events written, and alerts still firing at the end.
    public var alerts: Int = 0
    public var activeAlerts: Int = 0

    public var linesPerSecond: Double { seconds > 0 ? Double(lines) / seconds : 0 }
}

public enum Replay {
    /// Loads the registry, runs every input in order, ends the input, flushes the side outputs.
    /// - Throws: ``ReplayError`` for anything that stops the run (an unreadable input or registry,
    ///   an output folder that cannot be written).
    public static func run(_ job: ReplayJob, progress: ((ReplayProgress) -> Void)? = nil) throws -> ReplaySummary {
        do {
            return try runUnchecked(job, progress: progress)
        } catch let e as ReplayError {
            throw e
        } catch {
            throw ReplayError(.io, "\(error)")
        }
    }

    static func runUnchecked(_ job: ReplayJob, progress: ((ReplayProgress) -> Void)?) throws -> ReplaySummary {
        let t0 = Clock.monotonic()
        let registry = try loadRegistry(job)
        for input in job.inputs where input != "-" && !Files.exists(input) {
            throw ReplayError(.noSuchInput, "\(input): no such file")
        }
        let runName = runStamp(job.now)
        let out = try OutputDirectory(root: job.dataDirectory, zone: job.settings.zone, registry: registry, runName: runName, sync: job.sync)
        let engine = Engine(settings: job.settings, registry: registry, annual: job.annual, sources: job.sources, sink: out, now: job.now)
        out.sourceNames = { [unowned engine] in engine.sourceNames }
        if !job.alerts.isEmpty {
            do { try job.alerts.validate(engine: job.settings) } catch { throw ReplayError(.alertRules, "alert rules: \(error.message)") }
            // The run's own alert log: seq starts at 1, so earlier logs in this folder are replaced.
            out.alertLog = try AlertLog(directory: job.dataDirectory + "/alerts", zone: job.settings.zone, fresh: true, retention: .keepAll)
            engine.configureAlerts(job.alerts)
        }
        var bytes = 0
        var lines: Int64 = 0
        for input in job.inputs {
            let reader = InputReader(path: input, maxLineBytes: job.maxLineBytes)
            out.receivedAt = Clock.now()
            do {
                try reader.run(into: engine, sourceName: input == "-" ? "stdin" : input) { r in
                    out.receivedAt = Clock.now()
                    progress?(ReplayProgress(input: input, lines: lines + r.lines, bytes: bytes + r.bytesRead,
                                             fraction: r.size > 0 ? Double(r.bytesRead) / Double(r.size) : nil,
                                             counts: engine.counts, watermark: engine.watermark,
                                             windows: engine.windowsClosed, seconds: Clock.monotonic() - t0))
                }
            } catch let e as IOError {
                throw ReplayError(.io, e.description)
            }
            bytes += reader.bytesRead
            lines += reader.lines
            try out.check()
        }
        engine.finish()
        try out.flush()
        // Running totals (§4.2) as of the last closed slot.
        try Files.writeAtomically("\(job.dataDirectory)/totals.csv", engine.totals.csv(registry: registry, levels: job.settings.levels), sync: job.sync)
        return ReplaySummary(counts: engine.counts, lines: lines, bytes: bytes, seconds: Clock.monotonic() - t0,
                             filesWritten: out.filesWritten, anomalies: out.anomalyCount, lateSpans: out.lateSpanCount,
                             lateSpanEnergy: out.lateSpanEnergy, meters: registry.count, alerts: out.alertCount,
                             activeAlerts: engine.activeAlertCount)
    }

    /// Reads and parses the registry; the file's bytes are dropped before the engine allocates.
    static func loadRegistry(_ job: ReplayJob) throws -> Registry {
        let bytes: [UInt8]
        do { bytes = try Files.read(job.registryPath) } catch {
            throw ReplayError(.registry, "cannot read the registry: \(error)")
        }
        do {
            return try Registry(csv: bytes, origin: job.registryPath, meterLevel: job.settings.levels.contains(.meter))
        } catch {
            throw ReplayError(.registry, "registry \(error)")
        }
    }

    /// `20261122T013000Z-12345`: one side-output file per run.
    public static func runStamp(_ now: Micros) -> String {
        let iso = TimeFormatter(zone: .utc).string(now - now % Time.microsPerSecond)
        return String(iso.prefix(19).filter { $0 != "-" && $0 != ":" }) + "Z-\(getpid())"
    }
}

/// Progress of a running replay.
public struct ReplayProgress: Sendable {
    public var input: String
    public var lines: Int64
    public var bytes: Int
    /// Share of the current input read so far, when its size is known.
    public var fraction: Double?
    public var counts: LineCounts
    public var watermark: Micros
    public var windows: Int
    public var seconds: Double
}

#if canImport(Glibc)
import Glibc
#endif
