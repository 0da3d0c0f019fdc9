import Dispatch
import GridCarbonEngine
import GridCarbonModel

/// What a scale-out feeder hands the host (§8), each one log entry.
public enum StreamItem: Sendable {
    /// A partition worker's message: record lines or an idle tick.
    case partition(seq: UInt64, payload: [UInt8])
    /// A merger's partial batch, at its sequence in the partials stream.
    case partial(seq: UInt64, batch: [UInt8])
    /// A merger's grid message.
    case grid(seq: UInt64, lines: [UInt8])
    /// Every grid message up to `seq` has been received.
    case gridThrough(UInt64)
}

extension EngineHost {
    /// Logs and applies stream messages, in order; `done` runs once they are durable (the feeder
    /// acknowledges them to the stream then), or with the error that means they are not.
    public func submit(stream items: [StreamItem], done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        queue.async {
            do {
                let now = self.clock.now()
                var lsn: Int64 = -1
                let before = self.engine.counts
                let kindsBefore = self.engine.acceptedByKind
                for item in items {
                    switch item {
                    case .partition(let seq, let payload):
                        lsn = try payload.withUnsafeBytes { try self.log(.stream(seq: seq, receivedAt: now, now: now, payload: $0)) }
                    case .partial(let seq, let batch):
                        lsn = try batch.withUnsafeBytes { try self.log(.partial(seq: seq, batch: $0)) }
                    case .grid(let seq, let lines):
                        lsn = try lines.withUnsafeBytes { try self.log(.grid(seq: seq, receivedAt: now, lines: $0)) }
                    case .gridThrough(let seq):
                        lsn = try self.log(.gridThrough(seq))
                    }
                }
                var counts = self.engine.counts
                counts.accepted -= before.accepted; counts.duplicate -= before.duplicate
                counts.rejected -= before.rejected; counts.late -= before.late
                var kinds = self.engine.acceptedByKind
                kinds.register -= kindsBefore.register; kinds.interval -= kindsBefore.interval
                kinds.factor -= kindsBefore.factor; kinds.mix -= kindsBefore.mix
                kinds.exchange -= kindsBefore.exchange; kinds.output -= kindsBefore.output; kinds.contract -= kindsBefore.contract
                self.onCounts?(counts, kinds)
                if let progress = self.onMergeProgress, let status = self.mergeStatusOnQueue() { progress(status) }
                try self.output.check()
                self.checkpointIfDue()
                guard lsn >= 0 else { done(.success(())); return }
                self.queueAlerts(lsn)
                self.wal.whenDurable(lsn) { done($0.map { _ in () }.mapError { $0 }) }
            } catch {
                done(.failure(error))
            }
        }
    }

    /// Where the stream left off (any thread): the last stream sequence applied (a partition's
    /// data, or the merger's partials) and, for a merger, the grid sequence known complete.
    public func streamPosition() async -> (lastStreamSeq: UInt64, gridThrough: UInt64) {
        await onQueue { (self.engine.lastStreamSeq, self.engine.mergeProgress?.gridThrough ?? 0) }
    }

    /// A partition worker, once it can send: the batches recovery regenerated, which may not have
    /// reached the stream before the crash (the stream and the merger drop those that did).
    public func resendRecoveredBatches() async {
        await onQueue {
            let unsent = self.sink.unsentPartials
            self.sink.unsentPartials = []
            for b in unsent { self.sink.onPartial?(b) }
        }
    }

    /// The merger's view (metrics): per partition the last `closedBefore` slot start and stream
    /// sequence, grid sequence complete, slots waiting, duplicate and refused batches.
    public func mergeStatus() async -> MergeStatus? {
        await onQueue { self.mergeStatusOnQueue() }
    }

    func mergeStatusOnQueue() -> MergeStatus? {
        guard let p = engine.mergeProgress else { return nil }
        return MergeStatus(partitions: p.partitions.map { ($0.closedBefore, $0.seq) }, gridThrough: p.gridThrough,
                           pendingSlots: p.pendingSlots, duplicateBatches: p.duplicateBatches,
                           refused: sink.refusedPartials.map { "stream seq \($0.seq): \($0.reason)" }, refusedTotal: sink.refusedTotal)
    }
}

/// The merger's progress, for metrics and `/readyz`.
public struct MergeStatus: Sendable {
    public var partitions: [(closedBefore: Int64, seq: UInt64)]
    public var gridThrough: UInt64
    public var pendingSlots: Int
    public var duplicateBatches: Int
    /// The last 100 refused batches, with why.
    public var refused: [String]
    /// Batches refused in all.
    public var refusedTotal: Int
}
