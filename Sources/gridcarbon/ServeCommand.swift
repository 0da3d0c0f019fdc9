import ArgumentParser
import GridCarbonIO
import GridCarbonModel
import GridCarbonServer
import Foundation
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
        `ROLE[,ROLE] TOKEN` (roles ingest, read, admin); TCP clients send `!auth TOKEN` first. A TCP \
        client that shuts its sending side after `!sync` still gets the answer.

        Scale-out on NATS JetStream (docs/scale-out.md): records go into the stream with \
        `gridcarbon publish`; workers run the engine per partition and a merger writes the files:
          gridcarbon serve --nats nats://127.0.0.1:4222 --partitions 0,1 --registry reg.csv --data w1 --http 127.0.0.1:8091
          gridcarbon serve --nats nats://127.0.0.1:4222 --merge --registry reg.csv --data merged
        Workers and merger need the same registry and engine settings. A gateway takes lines over TCP \
        and HTTP like the daemon and forwards them into the stream; `!sync` and the HTTP answer come \
        once the stream has stored them (no engine, no registry needed):
          gridcarbon serve --nats nats://127.0.0.1:4222 --data gw --tcp 0.0.0.0:7070 --http 0.0.0.0:8080 --tokens tokens
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
    var checkpointBytes: String?

    @Option(name: .customLong("wal-segment-bytes"), help: ArgumentHelp("Write-ahead log segment size, 4096 to 4294967296. (default: 67108864)", valueName: "n"))
    var walSegmentBytes: String?

    @Option(name: .customLong("max-line-bytes"), help: ArgumentHelp("Longest line accepted over TCP and HTTP, 256 to 16777216. (default: 65536)", valueName: "n"))
    var maxLineBytes: String?

    @Option(name: .customLong("max-body-bytes"), help: ArgumentHelp("Largest HTTP request body, also after decompression. (default: 268435456)", valueName: "n"))
    var maxBodyBytes: String?

    @Option(name: .customLong("read-timeout"), help: ArgumentHelp("Close a TCP connection that sends nothing for this long, 1s to 1d. (default: 5m)", valueName: "duration"))
    var readTimeout: String?

    @Option(name: .customLong("max-connections"), help: ArgumentHelp("TCP connections open at once; beyond, one error line and close. (default: 1024)", valueName: "n"))
    var maxConnections: String?

    @Option(name: .customLong("webhook"), help: ArgumentHelp("POST every alert event to this URL, in order, retried until accepted (repeatable; adds to the config's alerts.webhooks).", valueName: "url"))
    var webhooks: [String] = []

    @Option(help: ArgumentHelp("Push alerts to Prometheus Alertmanager at this base URL (POST URL/api/v2/alerts).", valueName: "url"))
    var alertmanager: String?

    @Option(help: ArgumentHelp("NATS server URL(s), comma-separated: run as a scale-out worker (--partitions), merger (--merge), or alone a gateway that forwards TCP and HTTP input into the stream.", valueName: "url"))
    var nats: String?

    @Option(help: ArgumentHelp("With --nats: run the engines of these partitions (comma-separated, e.g. 0,2; each in DATA/partition-<p>/).", valueName: "list"))
    var partitions: String?

    @Flag(help: "With --nats: merge the workers' partial windows into the aggregate files, totals and alerts.")
    var merge = false

    @Option(name: .customLong("publish-timeout"), help: ArgumentHelp("Gateway: how long lines may go unstored in the stream before the client gets an error to send them again. (default: 30s)", valueName: "duration"))
    var publishTimeout: String?

    @OptionGroup(title: "Engine settings")
    var engine: SettingsOptions

    func validate() throws {
        if (partitions != nil || merge) && nats == nil { throw ValidationError("--partitions and --merge need --nats URL") }
        if partitions != nil && merge { throw ValidationError("give either --partitions LIST (a worker) or --merge (the merger), not both") }
        if publishTimeout != nil && (nats == nil || partitions != nil || merge) {
            throw ValidationError("--publish-timeout is for a gateway: --nats URL without --partitions or --merge")
        }
        if let publishTimeout, (DurationFormat.parse(publishTimeout) ?? 0) <= 0 {
            throw ValidationError("--publish-timeout takes a duration like 30s or 2m (got \(publishTimeout))")
        }
        if let partitions, Self.partitionList(partitions) == nil {
            throw ValidationError("--partitions takes partition numbers separated by commas, like 0,1,2 (got \(partitions))")
        }
    }

    static func partitionList(_ s: String) -> [Int]? {
        let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        let list = parts.map { $0! }
        return Set(list).count == list.count ? list : nil
    }

    func run() async throws {
        var engine = self.engine
        try engine.load()
        let file = engine.file
        let settings = try engine.settings()
        let (annual, sources) = try engine.tables()
        var flags = engine.flags
        let given: [(ConfigKey, String?)] = [
            (.registry, registry), (.data, data), (.tcp, tcp), (.http, http), (.fsync, fsync), (.idleTimeout, idleTimeout),
            (.checkpointBytes, checkpointBytes), (.walSegmentBytes, walSegmentBytes),
            (.alertmanagerURL, alertmanager),
            (.maxLineBytes, maxLineBytes), (.maxBodyBytes, maxBodyBytes), (.readTimeout, readTimeout), (.maxConnections, maxConnections),
        ]
        for (k, v) in given { if let v { flags[k] = v } }
        var config = try ServeConfiguration(file: file, flags: flags, webhooks: webhooks)
        config.engine = settings
        config.alerts = try engine.alertSettings(config.engine)
        config.configPath = engine.config
        config.budgetsPath = engine.budgets
        var logger = Logger(label: "gridcarbon")
        logger.logLevel = .info
        if let nats, let partitions, let list = Self.partitionList(partitions) {
            try await WorkerDaemon.run(configuration: config, scaleOut: ScaleOutConfiguration(url: nats, role: .worker(partitions: list)),
                                       partitions: list, annual: annual, sources: sources, logger: logger)
            return
        }
        if let nats, partitions == nil, !merge {
            var scaleOut = ScaleOutConfiguration(url: nats, role: .gateway)
            if let t = publishTimeout.flatMap(DurationFormat.parse) { scaleOut.publishTimeoutSeconds = Double(t) / 1e6 }
            try await GatewayDaemon.run(configuration: config, tokensPath: file.value(.tokens, flag: tokens), scaleOut: scaleOut, logger: logger)
            return
        }
        let scaleOut = nats.map { ScaleOutConfiguration(url: $0, role: .merge) }
        try await Daemon.run(configuration: config, tokensPath: file.value(.tokens, flag: tokens), annual: annual, sources: sources,
                             logger: logger, scaleOut: scaleOut)
    }
}
