import Dispatch
import Foundation
import GridCarbonEngine
import GridCarbonModel
import GridCarbonStream
import Logging
import NIOConcurrencyHelpers

/// One partition of a worker (§8): a thread of its own fetches the partition's messages from its
/// durable pull consumer, hands them to the partition's engine host (logged, applied), and
/// acknowledges them to the stream once they are durable. The engine's batches go to the partials
/// stream, one at a time and in order. While the partition receives nothing for `idle_timeout`,
/// the feeder publishes an idle tick into the partition itself, so the watermark's wall-clock move
/// is part of the stream and a replay makes it at the same point.
final class PartitionFeeder: @unchecked Sendable {
    let partition: Int
    let partitions: Int
    let host: EngineHost
    let connection: NATSConnection
    let layout: StreamLayout
    let settings: ScaleOutConfiguration
    let metrics: StreamMetrics
    let logger: Logger
    private let stopped = NIOLockedValueBox(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Sends the engine's batches (used on the engine queue only).
    private let batches: JetStreamPublisher

    init(partition: Int, partitions: Int, host: EngineHost, connection: NATSConnection, layout: StreamLayout,
         settings: ScaleOutConfiguration, metrics: StreamMetrics, logger: Logger) throws {
        self.partition = partition
        self.partitions = partitions
        self.host = host
        self.connection = connection
        self.layout = layout
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        var options = JetStreamPublisher.Options()
        // One at a time: the merger takes a partition's batches in order (a later one makes it drop
        // an earlier one as a repeat), and other workers publish to the same stream.
        options.maxPending = 1
        options.ordered = false
        batches = try JetStreamPublisher(connection, options: options)
    }

    /// Wires the host, re-points the consumer at the recovered position and starts the thread.
    func start() async throws {
        let subject = "\(layout.subjectPrefix).partial.\(partition)"
        let publisher = batches, metrics = self.metrics, p = partition, logger = self.logger
        host.onPartial = { batch in
            let bytes = batch.encoded()
            do {
                try bytes.withUnsafeBytes {
                    try publisher.publish(subject: subject, payload: $0, messageID: "gc-partial-\(p)-\(batch.closedBefore)")
                }
                metrics.batchesSent[p]?.increment()
            } catch {
                // Not lost: the host's checkpoint waits for the stream (beforeCheckpoint), and a
                // restart regenerates every batch after the last checkpoint.
                logger.error("partial batch not stored", metadata: ["partition": "\(p)", "error": "\(error)"])
            }
        }
        host.beforeCheckpoint = { _ = try publisher.finish() }
        await host.resendRecoveredBatches()
        let position = await host.streamPosition().lastStreamSeq
        let pull = try await StreamRetry.until(logger: logger, "the consumer of partition \(partition)") { [self] () throws -> UncheckedBox<PullConsumer> in
            UncheckedBox(try self.consumer(after: position))
        }.value
        logger.info("partition consumer started", metadata: ["partition": "\(partition)", "from_sequence": "\(position + 1)"])
        let box = UncheckedBox(pull)
        BlockingThread.start { [self] in
            self.run(box.value, from: position)
            self.finished.signal()
        }
    }

    /// The partition's durable consumer, (re-)created to deliver what follows `position`.
    func consumer(after position: UInt64) throws -> PullConsumer {
        var consumer = ConsumerSettings(stream: layout.stream, durable: "gridcarbon-partition-\(partition)",
                                        filterSubject: layout.meterSubject(partition))
        consumer.start = .sequence(position + 1)
        consumer.acknowledgement = .all
        consumer.ackWaitSeconds = settings.ackWaitSeconds
        return try PullConsumer(try JetStream(connection), settings: consumer, recreate: true)
    }

    /// Stops fetching and waits for the thread (the host then shuts down as usual).
    func stop() {
        stopped.withLockedValue { $0 = true }
        finished.wait()
    }

    private func run(_ first: PullConsumer, from position: UInt64) {
        var pull = first
        var watch = StallWatch(seconds: settings.stallSeconds)
        var applied = position
        var lastData = Date()
        var lastTick = Date.distantPast
        let idle = Double(host.configuration.idleTimeout) / 1e6
        var ticks: JetStreamPublisher?
        while !stopped.withLockedValue({ $0 }) {
            let messages: [StreamMessage]
            do {
                messages = try pull.fetch(max: settings.fetchBatch, timeoutMillis: settings.fetchWaitMillis)
            } catch {
                logger.warning("fetch failed; retrying", metadata: ["partition": "\(partition)", "error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.5)
                continue
            }
            if messages.isEmpty {
                if let state = watch.check(pull) {
                    metrics.lag[partition]?.record(Int64(state.numPending))
                    if state.numPending > 0 {
                        logger.warning("the consumer delivers nothing while messages wait: re-creating it",
                                       metadata: ["partition": "\(partition)", "pending": "\(state.numPending)", "after_sequence": "\(applied)"])
                        metrics.consumerRestarts[partition]?.increment()
                        do { pull = try consumer(after: applied) } catch {
                            logger.warning("consumer not re-created; trying again later", metadata: ["partition": "\(partition)", "error": "\(error)"])
                        }
                    }
                }
                // Idle: after idle_timeout without data, move the watermark with wall time, through the stream.
                let now = Date()
                if now.timeIntervalSince(lastData) >= idle && now.timeIntervalSince(lastTick) >= idle {
                    let w = Micros(now.timeIntervalSince1970 * 1e6) - host.configuration.engine.reorderWindow
                    do {
                        if ticks == nil { var o = JetStreamPublisher.Options(); o.maxPending = 1; o.ordered = false; ticks = try JetStreamPublisher(connection, options: o) }
                        let payload = StreamPayload.idleTick(w)
                        try payload.withUnsafeBytes { try ticks!.publish(subject: layout.meterSubject(partition), payload: $0, messageID: "gc-idle-\(partition)-\(w)") }
                        _ = try ticks!.finish()
                        metrics.idleTicks[partition]?.increment()
                        lastTick = now
                    } catch {
                        logger.warning("idle tick not stored", metadata: ["partition": "\(partition)", "error": "\(error)"])
                    }
                }
                continue
            }
            watch.delivered()
            metrics.fetchBatch[partition]?.record(messages.count)
            var items: [StreamItem] = []
            items.reserveCapacity(messages.count)
            for m in messages {
                if m.numDelivered > 1 { metrics.redeliveries[partition]?.increment() }
                // At or below what the engine applied: a redelivery, dropped.
                guard m.streamSequence > applied else { continue }
                let payload = m.withPayload { Array($0) }
                if payload.withUnsafeBytes({ StreamPayload.idleTick($0) }) == nil { lastData = Date() }
                items.append(.partition(seq: m.streamSequence, payload: payload))
                applied = m.streamSequence
            }
            if let last = messages.last { metrics.lag[partition]?.record(Int64(last.numPending)) }
            metrics.applied[partition]?.record(Int64(applied))
            let durable = DispatchSemaphore(value: 0)
            let outcome = NIOLockedValueBox<Result<Void, any Error>>(.success(()))
            host.submit(stream: items) { r in outcome.withLockedValue { $0 = r }; durable.signal() }
            durable.wait()
            if case .failure(let error) = outcome.withLockedValue({ $0 }) {
                // The log refuses appends after a failed fsync: stop acknowledging; systemd restarts us.
                logger.critical("partition messages not durable: stopping this partition", metadata: ["partition": "\(partition)", "error": "\(error)"])
                return
            }
            // Acknowledge the last one: with ack policy "all", every earlier one with it.
            do { try pull.ack(messages.last!) } catch {
                logger.warning("acknowledgement not sent (the messages come again and are dropped)", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Hands a non-Sendable object (a consumer, used by one thread at a time) across a thread hop.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
