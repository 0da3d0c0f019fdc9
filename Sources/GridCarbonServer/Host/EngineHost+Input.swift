import GridCarbonEngine
import GridCarbonModel

extension EngineHost {
    /// Submits whole lines (`lines` must end with a newline). `done` runs once the batch is durable,
    /// or with the error that means it is not. Call from any thread; the work happens on the
    /// queue, in submission order.
    /// The batch counts toward ``gate`` until it is applied.
    public func submit(_ lines: [UInt8], source: String, capture: Int = 0, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        let bytes = lines.count
        gate.added(bytes)
        queue.async {
            // Counted out once applied, before the outcome is handed on (a client that has its
            // answer sees the bytes gone), or on failure.
            var queued = true
            defer { if queued { self.gate.removed(bytes) } }
            do {
                let now = self.clock.now()
                let before = self.engine.counts
                let kindsBefore = self.engine.acceptedByKind
                let maxBefore = self.engine.maxEventTime
                self.sink.capture = capture
                self.sink.captured = []
                let lsn = try lines.withUnsafeBytes {
                    try self.log(.batch(receivedAt: now, now: now, source: source, lines: $0))
                }
                self.sink.capture = 0
                var outcome = BatchOutcome()
                let after = self.engine.counts
                outcome.counts.accepted = after.accepted - before.accepted
                outcome.counts.duplicate = after.duplicate - before.duplicate
                outcome.counts.rejected = after.rejected - before.rejected
                outcome.counts.late = after.late - before.late
                outcome.rejections = self.sink.captured
                let k = self.engine.acceptedByKind
                var kinds = KindCounts()
                kinds.register = k.register - kindsBefore.register
                kinds.interval = k.interval - kindsBefore.interval
                kinds.factor = k.factor - kindsBefore.factor
                kinds.mix = k.mix - kindsBefore.mix
                kinds.exchange = k.exchange - kindsBefore.exchange
                kinds.output = k.output - kindsBefore.output
                kinds.contract = k.contract - kindsBefore.contract
                self.onCounts?(outcome.counts, kinds)
                if self.engine.maxEventTime != maxBefore || outcome.counts.late > 0 || outcome.counts.duplicate > 0 {
                    self.lastActivity = now
                }
                try self.output.check()
                self.checkpointIfDue()
                self.queueAlerts(lsn)
                let result = outcome
                queued = false
                self.gate.removed(bytes)
                self.wal.whenDurable(lsn) { done($0.map { result }.mapError { $0 }) }
            } catch {
                self.sink.capture = 0
                done(.failure(error))
            }
        }
    }

    /// Logs and counts a line refused before parsing (an over-long line's first bytes).
    public func reject(_ line: [UInt8], reason: RejectReason, source: String, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        queue.async {
            do {
                let lsn = try line.withUnsafeBytes {
                    try self.log(.rejectedLine(receivedAt: self.clock.now(), reason: reason, source: source, line: $0))
                }
                var outcome = BatchOutcome()
                outcome.counts.rejected = 1
                self.onCounts?(outcome.counts, KindCounts())
                let result = outcome
                self.wal.whenDurable(lsn) { done($0.map { result }.mapError { $0 }) }
            } catch {
                done(.failure(error))
            }
        }
    }

    /// Async form of ``submit(_:source:capture:done:)``.
    public func submit(_ lines: [UInt8], source: String, capture: Int = 0) async throws -> BatchOutcome {
        try await withCheckedThrowingContinuation { c in
            submit(lines, source: source, capture: capture) { c.resume(with: $0) }
        }
    }
}
