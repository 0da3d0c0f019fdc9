import Foundation
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import GridCarbonStream
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `gridcarbon serve --nats URL --partitions LIST` (§8): one engine host per partition, each in
/// `DATA/partition-<p>/` (its own write-ahead log, checkpoints and side outputs), fed by its own
/// consumer thread; its batches go to the partials stream. HTTP serves `/metrics`, `/healthz` and
/// `/readyz` (no record input: records come from the stream).
public enum WorkerDaemon {
    public static func run(configuration: ServeConfiguration, scaleOut: ScaleOutConfiguration, partitions list: [Int],
                           annual: AnnualFactorTable, sources: SourceFactorTable, logger: Logger,
                           onReady: (@Sendable (_ httpPort: Int) -> Void)? = nil) async throws {
        let layout = StreamLayout()
        let (connection, count) = try await StreamConnect.open(scaleOut, layout: layout, logger: logger)
        defer { connection.close() }
        for p in list where p < 0 || p >= count {
            throw ServeError(.badScaleOut, "partition \(p) does not exist: the stream has \(count) partitions (0 to \(count - 1))")
        }
        let registryCSV = try configuration.registryPath.map { try Files.read($0) }
        if registryCSV == nil {
            logger.warning("no registry given: every meter record will be rejected as unknown_meter; give workers and merger the same --registry FILE")
        }
        let metrics = ServerMetrics()
        let streamMetrics = StreamMetrics(partitions: list, factory: metrics.factory)
        var hosts: [EngineHost] = []
        var feeders: [PartitionFeeder] = []
        for p in list {
            var c = configuration
            c.dataDirectory = configuration.dataDirectory + "/partition-\(p)"
            let host = try EngineHost(configuration: c, registryCSV: registryCSV, registryOrigin: configuration.registryPath ?? "registry",
                                      annual: annual, sources: sources, logger: logger, role: .partition(index: p, of: count))
            host.onCounts = { metrics.count($0, kinds: $1) }
            hosts.append(host)
            feeders.append(try PartitionFeeder(partition: p, partitions: count, host: host, connection: connection, layout: layout,
                                               settings: scaleOut, metrics: streamMetrics, logger: logger))
        }
        let ready = ReadyFlag()
        let allFeeders = feeders, allHosts = hosts
        let router = Router()
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/readyz") { _, _ -> Response in
            Response(status: ready.ready ? .ok : .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: ready.ready ? "ready\n" : "starting\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: metrics.text())))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "gridcarbon-worker"),
                              onServerRunning: { channel in
                                  ready.httpPort = channel.localAddress?.port ?? configuration.httpPort
                                  ready.httpRunning = true
                              }, logger: logger)
        let service = FeedersService(logger: logger, start: {
            for f in allFeeders { try await f.start() }
            while !ready.httpRunning { try? await Task.sleep(for: .milliseconds(10)) }
            ready.ready = true
            SystemdNotifier().ready(status: "worker of partitions \(list.map(String.init).joined(separator: ",")) of \(count)")
            logger.info("gridcarbon worker running", metadata: ["partitions": "\(list)", "of": "\(count)", "http": "\(configuration.httpHost):\(ready.httpPort)",
                                                              "data": "\(configuration.dataDirectory)"])
            onReady?(ready.httpPort)
        }, stop: {
            for f in allFeeders { f.stop() }
            for h in allHosts { await h.shutdown() }
        })
        let group = ServiceGroup(configuration: .init(services: [.init(service: service), .init(service: app)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("gridcarbon worker stopped: applied messages are durable")
    }
}

/// Starts stream feeders, runs until shutdown, then stops them and lets the hosts make their state
/// durable.
struct FeedersService: Service {
    let logger: Logger
    let start: @Sendable () async throws -> Void
    let stop: @Sendable () async -> Void

    func run() async throws {
        try await start()
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .milliseconds(200))
            }
        } onGracefulShutdown: {
            SystemdNotifier().stopping(status: "stopping: making applied messages durable")
        }
        await stop()
    }
}
