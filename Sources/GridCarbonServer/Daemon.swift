import NIOConcurrencyHelpers
import CMallocTuning
import Dispatch
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import GridCarbonStream
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `gridcarbon serve`: the engine host, TCP ingest and the HTTP API under one service group, with
/// graceful shutdown on SIGTERM/SIGINT (stop input, make accepted data durable, flush, exit 0).
public enum Daemon {
    /// Whether an address is loopback: every address it resolves to is (``Loopback``).
    public static func isLoopback(_ host: String) -> Bool {
        Loopback.contains(host)
    }

    /// Starts everything and runs until a shutdown signal. `onReady` gets the bound ports.
    public static func run(configuration: ServeConfiguration, tokensPath: String?, annual: AnnualFactorTable, sources: SourceFactorTable,
                           logger: Logger, scaleOut: ScaleOutConfiguration? = nil,
                           onReady: (@Sendable (_ tcpPort: Int, _ httpPort: Int) -> Void)? = nil) async throws {
        // Large buffers (batches, checkpoints, snapshots) in mappings of their own, freed memory
        // returned: resident memory stays flat over days instead of creeping with heap fragments.
        _ = gc_malloc_tune()
        let auth = try Authenticator.forServe(configuration, tokensPath: tokensPath)
        var registryCSV: [UInt8]?
        if let path = configuration.registryPath {
            registryCSV = try Files.read(path)
        } else {
            logger.warning("no registry given: every meter record will be rejected as unknown_meter (use --registry FILE; POST /v1/registry loads one live)")
        }
        // The merger (§8): its input is the stream (partial batches and grid records), not TCP.
        var merge: (feeder: MergeFeeder, connection: NATSConnection)?
        var role = EngineRole.whole
        var mergeConnection: NATSConnection?
        let layout = StreamLayout()
        if let scaleOut, scaleOut.role == .merge {
            let (connection, count) = try await StreamConnect.open(scaleOut, layout: layout, logger: logger)
            mergeConnection = connection
            role = .merge(partitions: count)
        }
        let host = try EngineHost(configuration: configuration, registryCSV: registryCSV, registryOrigin: configuration.registryPath ?? "registry",
                                  annual: annual, sources: sources, logger: logger, role: role)
        if let connection = mergeConnection, let scaleOut {
            merge = (MergeFeeder(host: host, connection: connection, layout: layout, settings: scaleOut, logger: logger), connection)
        }
        let mergeFeeder = merge?.feeder
        let metrics = ServerMetrics()
        // Alert events: logged to <data>/alerts and fanned out; recovered ones first (the log skips
        // those it has), then live ones as their write-ahead-log entries become durable (from here
        // on, so the events of a rule change below are not missed).
        let alertMetrics = AlertMetrics(registry: metrics)
        let hub = try AlertHub(directory: configuration.dataDirectory + "/alerts", zone: configuration.engine.zone, logger: logger, metrics: alertMetrics,
                               retention: configuration.alertDelivery.logRetention, maxSubscribers: configuration.alertDelivery.maxSubscribers)
        hub.publish(await host.takeRecoveredAlerts())
        host.onAlerts = { hub.publish($0) }
        let alertService = AlertService(hub: hub, configuration: configuration.alertDelivery, zone: configuration.engine.zone, logger: logger)
        // Rules that changed while the daemon was down take effect now, through the log.
        if try await host.replaceAlerts(configuration.alerts) {
            logger.info("alert rules differ from those recovered: the configured ones apply from now")
        }
        // The registry in force when the window closed (the host's changes on registry reloads).
        let shortestWindow = configuration.engine.windows.min()
        host.onWindow = { [unowned host] w in metrics.window(w, registry: host.registry, shortest: w.length == shortestWindow) }
        host.onSync = { seconds, _ in metrics.fsync(seconds: seconds) }
        host.onCounts = { metrics.count($0, kinds: $1) }
        host.onProvinceToday = { metrics.provinceToday($0) }
        let readyFlag = ReadyFlag()
        let tcp = mergeFeeder != nil ? nil : TCPIngestService(host: host, address: configuration.tcpHost, port: configuration.tcpPort, maxLineBytes: configuration.maxLineBytes,
                                   readTimeout: configuration.readTimeout, maxConnections: configuration.maxConnections,
                                   logger: logger, requireAuth: auth.required, authorize: { auth.allows($0, .ingest) })
        let router = HTTPAPI.router(host: host, metrics: metrics, auth: auth, ready: { readyFlag.ready })
        AlertRoutes.add(to: router, hub: hub, keepAlive: configuration.alertDelivery.keepAlive)
        let app = Application(router: router, server: HTTPAPI.server(configuration.load), configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "gridcarbon"),
                              onServerRunning: { channel in
                                  readyFlag.httpPort = channel.localAddress?.port ?? configuration.httpPort
                                  readyFlag.httpRunning = true
                              },
                              logger: logger)
        let hostService = HostService(host: host, logger: logger, onStart: {
            // Wait for both listeners, then tell whoever started us.
            if let mergeFeeder {
                do { try await mergeFeeder.start(metrics: metrics.factory) } catch {
                    logger.critical("the merger cannot consume the stream", metadata: ["error": "\(error)"])
                    return
                }
            }
            while (tcp != nil && tcp?.localPort == nil) || !readyFlag.httpRunning {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                try? await Task.sleep(for: .milliseconds(10))
            }
            // Ready (/readyz) only now: both listeners are up and SIGHUP is trapped.
            readyFlag.ready = true
            let tcpAt = tcp.map { "\(configuration.tcpHost):\($0.localPort ?? 0)" } ?? "off (merger: input from the stream)"
            SystemdNotifier().ready(status: "serving tcp \(tcpAt) http \(configuration.httpHost):\(readyFlag.httpPort)")
            onReady?(tcp?.localPort ?? 0, readyFlag.httpPort)
            logger.info(mergeFeeder == nil ? "gridcarbon serving" : "gridcarbon merger serving", metadata: [
                "tcp": "\(tcpAt)",
                "http": "\(configuration.httpHost):\(readyFlag.httpPort)",
                "data": "\(configuration.dataDirectory)",
            ])
        })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: hostService)]
        if let tcp { services.append(.init(service: tcp)) }
        let group = ServiceGroup(configuration: .init(
            services: services + [
                .init(service: app),
                // Last, so it stops first: it ends open alert streams before the HTTP server drains.
                .init(service: alertService),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        readyFlag.ready = false
        mergeFeeder?.stop()
        await host.shutdown()
        merge?.connection.close()
        logger.info("gridcarbon stopped: accepted data is durable")
    }
}

/// Readiness shared between the services.
final class ReadyFlag: @unchecked Sendable {
    private let lock = NIOLock()
    private var _ready = false
    private var _httpRunning = false
    private var _port = 0
    /// The daemon answers `/readyz` with 200.
    var ready: Bool {
        get { lock.withLock { _ready } }
        set { lock.withLock { _ready = newValue } }
    }
    /// The HTTP server is listening.
    var httpRunning: Bool {
        get { lock.withLock { _httpRunning } }
        set { lock.withLock { _httpRunning = newValue } }
    }
    var httpPort: Int {
        get { lock.withLock { _port } }
        set { lock.withLock { _port = newValue } }
    }
}

/// Runs the engine host's clock, periodic side-output flushes, the systemd watchdog (pinged only
/// after a round trip through the engine queue, so a stuck engine stops the pings) and SIGHUP; on
/// shutdown the host makes everything durable.
struct HostService: Service {
    let host: EngineHost
    let logger: Logger
    let onStart: @Sendable () async -> Void

    func run() async throws {
        host.startClock()
        // SIGHUP is trapped before readiness is announced: its default action ends the process, and
        // a reload asked for right after /readyz must reload, not kill.
        let sighups = await UnixSignalsSequence(trapping: .sighup)
        await onStart()
        let notifier = SystemdNotifier()
        let host = self.host, logger = self.logger
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await notifier.runWatchdog(isHealthy: { await host.read { _ in true } }) }
                group.addTask {
                    for await _ in sighups {
                        notifier.reloading(status: "reloading registry and factor tables")
                        await reload(host: host, logger: logger)
                        notifier.ready(status: "serving")
                    }
                }
                // Until shutdown: flush side outputs every second (the other tasks may end early,
                // the watchdog at once when systemd does not ask for it).
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .seconds(1))
                    host.flushSideOutputs()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            notifier.stopping(status: "stopping: making accepted data durable")
        }
        await host.shutdown()
    }

    /// SIGHUP: re-reads the registry file, the factor table files (when the daemon was started
    /// with them), the alert rules and budgets, and applies them through the log; a file that does
    /// not parse changes nothing and is logged with the line that is wrong.
    func reload(host: EngineHost, logger: Logger) async {
        let c = host.configuration
        if let path = c.registryPath {
            do {
                let change = try await host.replaceRegistry(csv: try Files.read(path), origin: path)
                if change.isEmpty {
                    logger.info("SIGHUP: registry unchanged", metadata: ["registry": "\(path)", "meters": "\(change.meters)"])
                } else {
                    logger.info("SIGHUP: registry reloaded", metadata: EngineHost.metadata(change).merging(["registry": "\(path)"]) { a, _ in a })
                }
            } catch {
                logger.error("SIGHUP: registry not reloaded, the old one stays", metadata: ["error": "\(error)"])
            }
        }
        await reloadTables(host: host, logger: logger)
        await reloadAlerts(host: host, logger: logger)
    }

    /// SIGHUP, alert rules and budgets: a file that does not parse changes nothing.
    func reloadAlerts(host: EngineHost, logger: Logger) async {
        let c = host.configuration
        do {
            let file = try c.configPath.map { try ConfigFile(bytes: Files.read($0), path: $0) } ?? .empty
            let settings = try file.alertSettings(engine: c.engine, budgetsOverride: c.budgetsPath)
            if try await host.replaceAlerts(settings) {
                logger.info("SIGHUP: alert rules and budgets reloaded", metadata: ["rules": "\(settings.rules.count)", "budgets": "\(settings.budgets.count)"])
            }
        } catch {
            logger.error("SIGHUP: alert rules not reloaded, the old ones stay", metadata: ["error": "\(error)"])
        }
    }

    /// SIGHUP, factor tables: a table that does not parse changes nothing.
    func reloadTables(host: EngineHost, logger: Logger) async {
        let c = host.configuration
        do {
            let annual = try c.factorsPath.map { String(decoding: try Files.read($0), as: UTF8.self) } ?? EmbeddedData.gridFactorsCSV
            let sources = try c.sourceFactorsPath.map { String(decoding: try Files.read($0), as: UTF8.self) } ?? EmbeddedData.sourceFactorsCSV
            try await host.replaceTables(annualCSV: annual, sourcesCSV: sources, basis: c.sourceBasis)
            logger.info("SIGHUP: factor tables reloaded", metadata: ["factors": "\(c.factorsPath ?? "embedded")", "source_factors": "\(c.sourceFactorsPath ?? "embedded")"])
        } catch {
            logger.error("SIGHUP: factor tables not reloaded, the old ones stay", metadata: ["error": "\(error)"])
        }
    }
}
