import Dispatch
import Foundation
import GridCarbonEngine
import GridCarbonModel
import GridCarbonStream
import Logging
import NIOConcurrencyHelpers
import Prometheus

/// The merger's input (§8): a thread of its own fetches the workers' batches from the partials
/// stream and the grid records from the records stream, hands them to the host (logged, applied)
/// and acknowledges them once durable. When the grid subject has nothing more (the consumer has
/// nothing pending and nothing unacknowledged), it tells the engine up to which
/// stream sequence the grid is complete (the stream's last sequence, read before checking), which
/// is what lets a slot close.
final class MergeFeeder: @unchecked Sendable {
    let host: EngineHost
    let connection: NATSConnection
    let layout: StreamLayout
    let settings: ScaleOutConfiguration
    let logger: Logger
    private let stopped = NIOLockedValueBox(false)
    private let finished = DispatchSemaphore(value: 0)

    init(host: EngineHost, connection: NATSConnection, layout: StreamLayout, settings: ScaleOutConfiguration, logger: Logger) {
        self.host = host
        self.connection = connection
        self.layout = layout
        self.settings = settings
        self.logger = logger
    }

    /// Re-points the consumers at the recovered positions, wires the merge metrics into `factory`
    /// and starts the thread.
    func start(metrics factory: PrometheusMetricsFactory) async throws {
        if let partitions = await host.mergeStatus()?.partitions.count {
            let metrics = MergeMetrics(partitions: partitions, factory: factory)
            host.onMergeProgress = { metrics.record($0) }
            if let status = await host.mergeStatus() { metrics.record(status) }
        }
        let (partialsAt, gridAt) = await host.streamPosition()
        let consumers = try await StreamRetry.until(logger: logger, "the merger's consumers") { [self] () throws -> UncheckedBox<(JetStream, PullConsumer, PullConsumer)> in
            UncheckedBox((try JetStream(self.connection), try self.partialsConsumer(after: partialsAt), try self.gridConsumer(after: gridAt)))
        }
        logger.info("merger consumers started", metadata: ["partials_from": "\(partialsAt + 1)", "grid_from": "\(gridAt + 1)"])
        BlockingThread.start { [self] in
            let (js, p, g) = consumers.value
            self.run(js: js, partials: p, grid: g, partialsAt: partialsAt, gridAt: gridAt)
            self.finished.signal()
        }
    }

    /// The durable consumer of the partial batches, (re-)created to deliver what follows `position`.
    func partialsConsumer(after position: UInt64) throws -> PullConsumer {
        var partials = ConsumerSettings(stream: layout.partialsStream, durable: "gridcarbon-merge-partials", filterSubject: layout.partialsSubjects)
        partials.start = .sequence(position + 1)
        partials.acknowledgement = .all
        partials.ackWaitSeconds = settings.ackWaitSeconds
        return try PullConsumer(try JetStream(connection), settings: partials, recreate: true)
    }

    /// The durable consumer of the grid subject, (re-)created to deliver what follows `position`.
    func gridConsumer(after position: UInt64) throws -> PullConsumer {
        var grid = ConsumerSettings(stream: layout.stream, durable: "gridcarbon-merge-grid", filterSubject: layout.gridSubject)
        grid.start = .sequence(position + 1)
        grid.acknowledgement = .all
        grid.ackWaitSeconds = settings.ackWaitSeconds
        return try PullConsumer(try JetStream(connection), settings: grid, recreate: true)
    }

    /// Re-creates `consumer` when ``StallWatch`` finds it quiet with messages waiting.
    private func unstall(_ consumer: inout PullConsumer, _ watch: inout StallWatch, after position: UInt64,
                         make: (UInt64) throws -> PullConsumer) {
        guard let state = watch.check(consumer), state.numPending > 0 else { return }
        logger.warning("a merger consumer delivers nothing while messages wait: re-creating it",
                       metadata: ["consumer": "\(consumer.settings.durable)", "pending": "\(state.numPending)", "after_sequence": "\(position)"])
        do { consumer = try make(position) } catch {
            logger.warning("consumer not re-created; trying again later", metadata: ["consumer": "\(consumer.settings.durable)", "error": "\(error)"])
        }
    }

    func stop() {
        stopped.withLockedValue { $0 = true }
        finished.wait()
    }

    private func run(js: JetStream, partials first: PullConsumer, grid firstGrid: PullConsumer, partialsAt: UInt64, gridAt: UInt64) {
        var partials = first, grid = firstGrid
        var partialsWatch = StallWatch(seconds: settings.stallSeconds), gridWatch = StallWatch(seconds: settings.stallSeconds)
        var partialsApplied = partialsAt
        var gridApplied = gridAt
        while !stopped.withLockedValue({ $0 }) {
            var items: [StreamItem] = []
            var toAck: [(PullConsumer, StreamMessage)] = []
            do {
                let ps = try partials.fetch(max: settings.fetchBatch, timeoutMillis: settings.fetchWaitMillis / 5)
                for m in ps where m.streamSequence > partialsApplied {
                    items.append(.partial(seq: m.streamSequence, batch: m.withPayload { Array($0) }))
                    partialsApplied = m.streamSequence
                }
                if let last = ps.last { toAck.append((partials, last)); partialsWatch.delivered() } else {
                    unstall(&partials, &partialsWatch, after: partialsApplied, make: partialsConsumer(after:))
                }
                // The records stream's last sequence, read before the grid fetch: if the fetch
                // comes back empty, every grid message up to it has been received.
                let last = try js.streamInfo(layout.stream)?.lastSequence ?? 0
                let gs = try grid.fetch(max: settings.fetchBatch, timeoutMillis: ps.isEmpty ? settings.fetchWaitMillis / 5 : 5)
                for m in gs where m.streamSequence > gridApplied {
                    items.append(.grid(seq: m.streamSequence, lines: m.withPayload { Array($0) }))
                    gridApplied = m.streamSequence
                }
                if let lastGrid = gs.last { toAck.append((grid, lastGrid)); gridWatch.delivered() } else {
                    unstall(&grid, &gridWatch, after: gridApplied, make: gridConsumer(after:))
                }
                // An empty fetch proves nothing by itself (it may have timed out before the
                // server's answer came): the consumer must have nothing pending, and nothing
                // delivered and unacknowledged (every grid message received is acknowledged once
                // durable, so one still on its way counts as unacknowledged). The consumer's
                // delivered stream sequence is no help: with a filter it runs ahead to the last
                // message the server looked at.
                if gs.isEmpty && last > gridApplied {
                    let state = try grid.state()
                    if state.numPending == 0 && state.numAckPending == 0 {
                        items.append(.gridThrough(last))
                        gridApplied = last
                    }
                }
            } catch {
                logger.warning("merger fetch failed; retrying", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.5)
            }
            if items.isEmpty { continue }
            let durable = DispatchSemaphore(value: 0)
            let outcome = NIOLockedValueBox<Result<Void, any Error>>(.success(()))
            host.submit(stream: items) { r in outcome.withLockedValue { $0 = r }; durable.signal() }
            durable.wait()
            if case .failure(let error) = outcome.withLockedValue({ $0 }) {
                logger.critical("merger input not durable: stopping", metadata: ["error": "\(error)"])
                return
            }
            for (c, m) in toAck {
                do { try c.ack(m) } catch { logger.warning("acknowledgement not sent", metadata: ["error": "\(error)"]) }
            }
        }
    }
}
