import GridCarbonIO
import GridCarbonStream
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `gridcarbon serve --nats URL` without `--partitions` or `--merge` (§8): a gateway. It takes
/// lines over TCP and HTTP exactly as the daemon does (tokens, line and body limits, `!sync`) and
/// forwards them into the stream (``StreamForwarder``); `!sync` and the HTTP answer come once the
/// stream has stored the lines. It runs no engine: `/v1/aggregates` and the other reads are the
/// merger's. HTTP serves `POST /v1/records`, `/metrics`, `/healthz` and `/readyz`.
public enum GatewayDaemon {
    /// Waits for the records stream (created by `gridcarbon publish`, which fixes `P`), starts
    /// forwarding and both listeners, and runs until SIGTERM/SIGINT; then stops taking input and
    /// forwards what it has before returning. `onReady` gets the bound ports.
    public static func run(configuration: ServeConfiguration, tokensPath: String?, scaleOut: ScaleOutConfiguration, logger: Logger,
                           onReady: (@Sendable (_ tcpPort: Int, _ httpPort: Int) -> Void)? = nil) async throws {
        let auth = try Authenticator.forServe(configuration, tokensPath: tokensPath)
        if configuration.registryPath != nil {
            logger.notice("a gateway needs no registry: the registry given is not used (the workers check meters)")
        }
        let layout = StreamLayout()
        let (connection, partitions) = try await StreamConnect.open(scaleOut, layout: layout, logger: logger)
        let metrics = GatewayMetrics()
        var options = StreamForwarder.Options()
        options.timeoutSeconds = scaleOut.publishTimeoutSeconds
        let forwarder = try StreamForwarder(connection: connection, partitions: partitions, layout: layout,
                                            dataDirectory: configuration.dataDirectory, options: options) { report in
            metrics.record(report)
            if report.failed {
                logger.error("gateway: lines not stored in the stream; their clients were told to send them again",
                             metadata: ["lines": "\(report.failedLines)"])
            }
        }
        forwarder.start()
        let sink = GatewaySink(forwarder: forwarder)
        let readyFlag = ReadyFlag()
        let tcp = TCPIngestService(host: sink, address: configuration.tcpHost, port: configuration.tcpPort, maxLineBytes: configuration.maxLineBytes,
                                   readTimeout: configuration.readTimeout, maxConnections: configuration.maxConnections,
                                   logger: logger, requireAuth: auth.required, authorize: { auth.allows($0, .ingest) })
        let router = Router()
        router.add(middleware: InFlightLimitMiddleware(limit: configuration.load.maxHTTPRequests))
        router.add(middleware: AuthMiddleware(auth: auth))
        // Ready once listening, and while the stream's servers are reachable.
        HTTPAPI.addHealth(to: router, ready: { readyFlag.ready && forwarder.isConnected })
        HTTPAPI.addRecords(to: router, sink: sink, limits: HTTPBodyLimits(configuration))
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: metrics.text())))
        }
        let app = Application(router: router, server: HTTPAPI.server(configuration.load), configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "gridcarbon"),
                              onServerRunning: { channel in
                                  readyFlag.httpPort = channel.localAddress?.port ?? configuration.httpPort
                                  readyFlag.httpRunning = true
                              },
                              logger: logger)
        let readiness = GatewayReadiness(tcp: tcp, ready: readyFlag, connection: connection, logger: logger) { tcpPort, httpPort in
            logger.info("gridcarbon gateway serving", metadata: [
                "tcp": "\(configuration.tcpHost):\(tcpPort)", "http": "\(configuration.httpHost):\(httpPort)",
                "nats": "\(scaleOut.url)", "partitions": "\(partitions)",
            ])
            onReady?(tcpPort, httpPort)
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: readiness), .init(service: tcp), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        readyFlag.ready = false
        try await BlockingThread.run { forwarder.stop() }
        connection.close()
        logger.info("gridcarbon gateway stopped: what it took is in the stream")
    }
}
