import ArgumentParser
import GridCarbonIO
import GridCarbonModel
import GridCarbonServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: TCP and HTTP ingest, a write-ahead log, aggregates written as windows close.",
        discussion: """
        With no options it listens on loopback (TCP 127.0.0.1:7070, HTTP 127.0.0.1:8080), uses the \
        embedded factor tables and writes to ./gridcarbon-data. Accepted records are in the \
        write-ahead log (DATA/wal/) before they are acknowledged; after a crash a restart replays it \
        and writes the same files. SIGTERM or SIGINT stop it cleanly.

        Send records over TCP, one line each; `!sync` answers `ok <taken> <rejected>` once all lines \
        before it are durable:
          printf 'r,M1,2026-11-18T10:00:00+08:00,1000\\n!sync\\n' | nc -q1 127.0.0.1 7070
        or over HTTP:
          curl --data-binary @records.csv http://127.0.0.1:8080/v1/records
          curl 'http://127.0.0.1:8080/v1/aggregates?window=1h&level=province'
          curl http://127.0.0.1:8080/metrics

        Alert events (rules under `alerts.rules` in --config) as Server-Sent Events, resuming after \
        an event id; --webhook URL and --alertmanager URL deliver them too:
          curl -N -H 'Last-Event-ID: 41' http://127.0.0.1:8080/v1/alerts/stream

        Off loopback every endpoint but /healthz needs a bearer token: give --tokens FILE with lines \
        `ROLE[,ROLE] TOKEN` (roles ingest, read, admin); TCP clients send `!auth TOKEN` first.
        """
    )

    @Option(help: ArgumentHelp("Meter registry CSV.", valueName: "file"))
    var registry: String?

    @Option(help: ArgumentHelp("Data folder. (default: ./gridcarbon-data)", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("TCP line ingest address. (default: 127.0.0.1:7070)", valueName: "host:port"))
    var tcp: String?

    @Option(help: ArgumentHelp("HTTP API address. (default: 127.0.0.1:8080)", valueName: "host:port"))
    var http: String?

    @Option(help: ArgumentHelp("Bearer tokens file (ROLE[,ROLE] TOKEN per line); required off loopback.", valueName: "file"))
    var tokens: String?

    @Option(help: ArgumentHelp("Write-ahead log fsync: batch (group commit, default), interval:10ms, or never.", valueName: "policy"))
    var fsync: String?

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Wall time without meter records after which the watermark follows the clock. (default: 60s)", valueName: "duration"))
    var idleTimeout: String?

    @Option(name: .customLong("checkpoint-bytes"), help: ArgumentHelp("Write an engine checkpoint after this many bytes of log, then drop older log segments. (default: 268435456)", valueName: "n"))
    var checkpointBytes: Int64?

    @Option(name: .customLong("wal-segment-bytes"), help: ArgumentHelp("Write-ahead log segment size. (default: 67108864)", valueName: "n"))
    var walSegmentBytes: Int?

    @Option(name: .customLong("webhook"), help: ArgumentHelp("POST every alert event to this URL, in order, retried until accepted (repeatable; adds to the config's alerts.webhooks).", valueName: "url"))
    var webhooks: [String] = []

    @Option(help: ArgumentHelp("Push alerts to Prometheus Alertmanager at this base URL (POST URL/api/v2/alerts).", valueName: "url"))
    var alertmanager: String?

    @OptionGroup(title: "Engine settings")
    var engine: SettingsOptions

    func run() async throws {
        var engine = self.engine
        try await engine.load()
        let file = engine.file
        var config = ServeConfiguration()
        config.engine = try engine.settings()
        let (annual, sources) = try engine.tables()
        config.registryPath = registry ?? file.string("registry")
        config.factorsPath = engine.factorsFile ?? file.string("factors")
        config.sourceFactorsPath = engine.sourceFactorsFile ?? file.string("source_factors")
        config.sourceBasis = engine.sourceBasis ?? file.string("source_basis") ?? "direct"
        config.dataDirectory = data ?? file.string("data") ?? "./gridcarbon-data"
        (config.tcpHost, config.tcpPort) = try address(tcp ?? file.string("tcp") ?? "127.0.0.1:7070", "tcp")
        (config.httpHost, config.httpPort) = try address(http ?? file.string("http") ?? "127.0.0.1:8080", "http")
        let policy = fsync ?? file.string("fsync") ?? "batch"
        switch policy {
        case "batch": config.fsync = .batch
        case "never": config.fsync = .never
        default:
            guard policy.hasPrefix("interval:"), let d = DurationFormat.parse(String(policy.dropFirst(9))), d > 0 else {
                throw ValidationError("fsync '\(policy)' must be batch, never or interval:DURATION (interval:10ms)")
            }
            config.fsync = .interval(d)
        }
        if let t = idleTimeout ?? file.string("idle_timeout") {
            guard let d = DurationFormat.parse(t) else { throw ValidationError("idle-timeout '\(t)' is not a duration such as 60s") }
            config.idleTimeout = d
        }
        if let v = checkpointBytes ?? file.string("checkpoint_bytes").flatMap({ Int64($0) }) {
            guard v > 0 else { throw ValidationError("checkpoint-bytes must be positive") }
            config.checkpointBytes = v
        }
        if let v = walSegmentBytes ?? file.string("wal_segment_bytes").flatMap({ Int($0) }) {
            guard v >= 4096 else { throw ValidationError("wal-segment-bytes must be at least 4096") }
            config.walSegmentBytes = v
        }
        config.alertDelivery = try alertDelivery(file)
        if let v = file.string("max_line_bytes") { config.maxLineBytes = Int(v) ?? config.maxLineBytes }
        if let v = file.string("max_body_bytes") { config.maxBodyBytes = Int(v) ?? config.maxBodyBytes }
        config.alerts = try engine.alertSettings(config.engine)
        config.configPath = engine.config
        config.budgetsPath = engine.budgets
        var logger = Logger(label: "gridcarbon")
        logger.logLevel = .info
        try await Daemon.run(configuration: config, tokensPath: tokens ?? file.string("tokens"), annual: annual, sources: sources, logger: logger)
    }

    /// `alerts.webhooks`, `alerts.webhook_token`, `alerts.alertmanager.url|resend`,
    /// `alerts.keep_alive`, and the `--webhook`/`--alertmanager` flags.
    func alertDelivery(_ file: ConfigFile) throws -> AlertDeliveryConfiguration {
        var a = AlertDeliveryConfiguration()
        a.webhooks = (file.strings("alerts.webhooks") ?? []) + webhooks
        for url in a.webhooks + [alertmanager ?? file.string("alerts.alertmanager.url")].compactMap({ $0 }) {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else {
                throw ValidationError("alert target '\(url)' must be an http:// or https:// URL")
            }
        }
        a.webhookToken = file.string("alerts.webhook_token")
        a.alertmanagerURL = alertmanager ?? file.string("alerts.alertmanager.url")
        func duration(_ key: String) throws -> Duration? {
            guard let t = file.string(key) else { return nil }
            guard let d = DurationFormat.parse(t), d > 0 else { throw ValidationError("\(key) '\(t)' is not a duration such as 15s or 1m") }
            return .microseconds(d)
        }
        if let d = try duration("alerts.alertmanager.resend") { a.alertmanagerResend = d }
        if let d = try duration("alerts.keep_alive") { a.keepAlive = d }
        return a
    }

    func address(_ text: String, _ name: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(name) '\(text)' must be HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
