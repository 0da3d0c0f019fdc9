import ArgumentParser
import GridCarbonIO
import GridCarbonModel
import GridCarbonSimulate
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a synthetic meter fleet: a registry and its records, for trying and benchmarking gridcarbon.",
        discussion: """
        Meters are spread over the 31 provinces by electricity consumption, grouped into cities, \
        industrial parks and enterprises, and draw power by the daily load shape of their GB/T 4754 \
        industry (three-shift factories, office hours, meal peaks, flat data centres). Each meter sends \
        a cumulative register reading (r) every interval, or an interval record (i) with \
        --interval-share; hourly emission factors (f) and generation mix (m) come for a few provinces. \
        The same options and seed always give the same bytes. Records are written in arrival order; \
        the messiness options add disorder, clock jitter, duplicates, meter replacements, silent \
        meters and malformed lines, all within what the engine's 15-minute reorder window accepts.

        Simulate a day of 1000 meters (yesterday, Asia/Shanghai), then run it through the engine:

          gridcarbon simulate --meters 1000 --out sim
          gridcarbon replay --registry sim/registry.csv --data out sim/records.csv

        A day as a head-end system forwards it (meters grouped by concentrator in no registry \
        order, clocks up to 90 s late, three timestamp spellings, interval records, ids of several \
        shapes, a few duplicates and bad lines) — what the benchmarks use:

          gridcarbon simulate --meters 100000 --profile realistic --out sim

        A messier week in NDJSON, compressed:

          gridcarbon simulate --meters 5000 --days 7 --format ndjson --zstd \\
            --disorder 600 --jitter 30 --duplicates 0.001 --resets 0.0001 \\
            --gaps 0.0002 --bad-lines 0.001 --out sim
        """
    )

    @Option(help: "Number of meters.")
    var meters: Int = 1000

    @Option(help: "Number of days to simulate.")
    var days: Int = 1

    @Option(help: ArgumentHelp("First day, local time (default: yesterday in Asia/Shanghai).", valueName: "YYYY-MM-DD"))
    var start: String?

    @Option(help: ArgumentHelp("Reading interval; divides a day.", valueName: "duration"))
    var interval: String = "15m"

    @Option(help: "Seed of the random generator.")
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Write DIR/registry.csv and DIR/records.csv (.ndjson, .zst with --zstd).", valueName: "DIR"))
    var out: String?

    @Option(help: ArgumentHelp("Registry path (overrides --out).", valueName: "PATH"))
    var registry: String?

    @Option(help: ArgumentHelp("Records path (overrides --out); - for standard output; .zst compresses.", valueName: "PATH"))
    var records: String?

    @Flag(help: "Compress the records with zstd.")
    var zstd = false

    @Option(help: ArgumentHelp("Record format: csv or ndjson (default: by the records file name, else csv).", valueName: "format"))
    var format: String?

    @Option(help: ArgumentHelp("ideal: every reading at its exact time, in registry order, one spelling (default); realistic: as a head-end system forwards them (collector order, jittered clocks, mixed spellings and id shapes, 10% interval meters, a few duplicates and bad lines). The options below override the profile's values.", valueName: "profile"))
    var profile: String = "ideal"

    @Option(help: ArgumentHelp("Arrival delay: each record arrives up to this long after its time (seconds, or 5m); below 900 s.", valueName: "seconds"))
    var disorder: String = "0"

    @Option(help: ArgumentHelp("Clock jitter: each reading is taken up to this long after its nominal time (seconds, or 1m); below --interval. Default 0 (realistic: 90).", valueName: "seconds"))
    var jitter: String?

    @Option(help: ArgumentHelp("Fraction of meter records sent twice, the repeat a few lines later. Default 0 (realistic: 0.002).", valueName: "rate"))
    var duplicates: Double?

    @Option(help: ArgumentHelp("Fraction of register readings after a meter replacement (register back near 0). Default 0 (realistic: 0.00005).", valueName: "rate"))
    var resets: Double?

    @Option(help: ArgumentHelp("Fraction of meter records after which the meter goes silent for 1-6 h. Default 0 (realistic: 0.0002).", valueName: "rate"))
    var gaps: Double?

    @Option(help: ArgumentHelp("Malformed lines injected per meter record (bad number, bad timestamp, unknown meter, too few fields, garbage, bad kind). Default 0 (realistic: 0.0002).", valueName: "rate"))
    var badLines: Double?

    @Option(help: ArgumentHelp("Fraction of meters that send interval (i) records instead of register (r) readings. Default 0 (realistic: 0.1).", valueName: "fraction"))
    var intervalShare: Double?

    @Flag(help: "Leave out the hourly factor (f) and generation mix (m) feeds.")
    var noFactors = false

    @Flag(help: "Spell about 10% of timestamps as Unix seconds and 10% in UTC with Z.")
    var mixedTimestamps = false

    /// Options and output paths; `today` fixes the default start day (yesterday).
    private func plan(startDay defaultStart: Int) throws -> (options: SimulationOptions, registry: String?, records: String, compress: Bool?) {
        var o = SimulationOptions(startDay: defaultStart)
        o.meters = meters
        o.days = days
        if let start {
            guard let d = SimulationOptions.parseDate(start) else {
                throw ValidationError("--start must be a date YYYY-MM-DD (got '\(start)')")
            }
            o.startDay = d
        }
        guard let iv = DurationFormat.parse(interval), iv > 0 else {
            throw ValidationError("--interval must be a duration such as 15m, 1h or 30s (got '\(interval)')")
        }
        o.interval = iv
        o.seed = seed
        guard let p = SimulationOptions.Profile(rawValue: profile) else {
            throw ValidationError("--profile must be ideal or realistic (got '\(profile)')")
        }
        o.apply(p)
        o.disorder = try Self.seconds(disorder, option: "--disorder")
        if let jitter { o.jitter = try Self.seconds(jitter, option: "--jitter") }
        if let duplicates { o.duplicates = duplicates }
        if let resets { o.resets = resets }
        if let gaps { o.gaps = gaps }
        if let badLines { o.badLines = badLines }
        if let intervalShare { o.intervalShare = intervalShare }
        o.factorFeeds = !noFactors
        if mixedTimestamps { o.mixedTimestamps = true }
        if let format {
            guard let f = RecordFormat(rawValue: format) else {
                throw ValidationError("--format must be csv or ndjson (got '\(format)')")
            }
            o.format = f
        } else if let records, records.hasSuffix(".ndjson") || records.hasSuffix(".ndjson.zst") || records.hasSuffix(".jsonl") || records.hasSuffix(".jsonl.zst") {
            o.format = .ndjson
        }
        try o.validate()

        let dir = out.map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }
        let name = "records." + o.format.rawValue + (zstd ? ".zst" : "")
        guard let recordsPath = records ?? dir.map({ $0 + "/" + name }) ?? (send != nil ? "-" : nil) else {
            throw ValidationError("say where to write: --out DIR, or --records PATH (- for standard output), or --send tcp://HOST:PORT")
        }
        let registryPath = registry ?? dir.map { $0 + "/registry.csv" }
        if registryPath == "-" && recordsPath == "-" {
            throw ValidationError("--registry and --records cannot both be standard output")
        }
        if let registryPath, registryPath == recordsPath {
            throw ValidationError("--registry and --records name the same file: \(recordsPath)")
        }
        return (o, registryPath, recordsPath, zstd ? true : nil)
    }

    /// `300`, `300s` or `5m` as whole seconds in microseconds.
    private static func seconds(_ text: String, option: String) throws -> Micros {
        if let s = Int64(text), s >= 0 { return s * Time.microsPerSecond }
        if let d = DurationFormat.parse(text), d % Time.microsPerSecond == 0 { return d }
        throw ValidationError("\(option) must be whole seconds, such as 300 or 5m (got '\(text)')")
    }

    func validate() throws {
        _ = try plan(startDay: 20_000)
        if let send, !send.hasPrefix("tcp://") { throw ValidationError("--send must be tcp://HOST:PORT (got '\(send)')") }
        if rate < 0 { throw ValidationError("--rate must be 0 (as fast as possible) or a positive number of lines per second") }
    }

    /// Streams the records to a running daemon over TCP, at `--rate` lines per second (0: as fast
    /// as the daemon takes them), ends with `!sync` and reports what the daemon acknowledged.
    private func sendLive(_ sim: Simulator, to url: String, registry: String?) throws {
        let target = url.dropFirst("tcp://".count)
        guard let colon = target.lastIndex(of: ":"), let port = UInt16(target[target.index(after: colon)...]) else {
            throw ValidationError("--send must be tcp://HOST:PORT (got '\(url)')")
        }
        let hostName = String(target[..<colon])
        if let registry {
            try Files.writeAtomically(registry, sim.registryCSV(), sync: false)
            printError("simulate: wrote \(registry) (start the daemon with it as --registry)\n")
        }
        let client: LineClient
        do { client = try LineClient(host: hostName.isEmpty ? "127.0.0.1" : hostName, port: port) } catch {
            if error.code == .cannotResolve { throw ValidationError("--send: cannot resolve \(error.host)") }
            throw CommandError(.daemon, "cannot connect to \(error.host):\(error.port): \(error.systemMessage ?? "") (is `gridcarbon serve` running?)")
        }
        let start = Clock.monotonic()
        var sent = 0
        var lastReport = start
        let summary = try sim.writeRecords { chunk in
            var lines = 0
            for b in chunk where b == 0x0A { lines += 1 }
            try client.send(chunk)
            sent += lines
            if rate > 0 {
                let due = start + Double(sent) / rate
                let wait = due - Clock.monotonic()
                if wait > 0 { usleep(UInt32(min(wait, 1) * 1_000_000)) }
            }
            let t = Clock.monotonic()
            if t - lastReport >= 1 && Clock.stderrIsTerminal {
                lastReport = t
                printError("\r\u{1B}[Ksimulate: sent \(sent) lines, \(Int(Double(sent) / (t - start))) lines/s")
            }
        }
        try client.send(Array("!sync\n".utf8))
        let answer: String
        do { answer = try client.readLine() } catch { answer = String(decoding: error.received, as: UTF8.self) }
        let seconds = Clock.monotonic() - start
        if Clock.stderrIsTerminal { printError("\r\u{1B}[K") }
        printError("simulate: sent \(summary.lines) lines to \(url) in \(NumberFormat.fixed(seconds, decimals: 2)) s: \(NumberFormat.fixed(Double(summary.lines) / seconds / 1e6, decimals: 2)) M lines/s durable; daemon answered '\(answer)'\n")
        guard answer.hasPrefix("ok ") else { throw CommandError(.daemon, "the daemon did not acknowledge every line: it answered '\(answer)'") }
    }

    @Option(help: ArgumentHelp("Send the records to a running daemon instead of writing a file: tcp://HOST:PORT.", valueName: "url"))
    var send: String?

    @Option(help: ArgumentHelp("With --send: lines per second (0: as fast as the daemon takes them).", valueName: "n"))
    var rate: Double = 0

    func run() throws {
        let now = SimulationOptions.wallClock()
        let yesterday = Zone.shanghai.localDay(now) - 1
        let p = try plan(startDay: yesterday)
        let sim = try Simulator(options: p.options)
        if let send {
            try sendLive(sim, to: send, registry: p.registry)
            return
        }
        let s = try sim.run(registryPath: p.registry, recordsPath: p.records, compress: p.compress)

        let o = p.options
        var msg = "simulate: \(s.meters) meters (\(s.enterprises) enterprises"
        if s.intervalMeters > 0 { msg += ", \(s.intervalMeters) sending interval records" }
        msg += "), \(o.days) day\(o.days == 1 ? "" : "s") from \(TimeFormatter.dateString(localDay: o.startDay)) every \(DurationFormat.format(o.interval))\n"
        msg += "  \(s.lines) lines: \(s.readings) readings, \(s.factorLines) factor/mix, \(s.duplicates) duplicates, \(s.badLines) bad lines"
        if s.resets > 0 || s.gaps > 0 { msg += "; \(s.resets) resets, \(s.gaps) gaps" }
        msg += "\n"
        let rate = s.seconds > 0 ? Double(s.lines) / s.seconds : 0
        msg += "  \(NumberFormat.fixed(s.seconds, decimals: 2)) s, \(NumberFormat.fixed(rate / 1e6, decimals: 2)) M lines/s, \(NumberFormat.fixed(Double(s.bytes) / 1_048_576, decimals: 1)) MiB of records\n"
        if let r = s.registryPath { msg += "  wrote \(r == "-" ? "registry to standard output" : r)\n" }
        if let r = s.recordsPath { msg += "  wrote \(r == "-" ? "records to standard output" : r)\n" }
        if o.end > now + 15 * Time.microsPerMinute {
            msg += "  note: the records run past the current time; the engine rejects records more than 15 min ahead of its clock as future_timestamp\n"
        }
        printError(msg)
    }
}
