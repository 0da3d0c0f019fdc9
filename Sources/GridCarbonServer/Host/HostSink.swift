import GridCarbonEngine
import GridCarbonIO

/// Forwards the engine's outputs to the data folder, captures a batch's first rejections, holds
/// the alert events of the entry being applied, and times window writes. Used on the engine queue
/// only (and during recovery, before the host runs).
final class HostSink: EngineSink {
    let output: OutputDirectory
    let monotonic: @Sendable () -> Double
    /// How many rejections of the current batch to capture for the answer.
    var capture = 0
    var captured: [(line: Int64, reason: String, text: String)] = []
    var windowObserver: ((ClosedWindow) -> Void)?
    /// Alert events raised by the entry being applied; the host releases them once it is durable.
    var alerts: [AlertEvent] = []
    /// Seconds from a window's slot closing to its file renamed into place, newest last. Slots
    /// close inside a batch (or a wall-clock watermark move), so this is measured from the start
    /// of that batch: an upper bound that includes the batch's own parsing.
    var writeSeconds: [Double] = []
    /// When the entry being applied started (``monotonic``).
    var batchStarted = 0.0

    init(output: OutputDirectory, monotonic: @escaping @Sendable () -> Double) {
        self.output = output
        self.monotonic = monotonic
    }

    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        if captured.count < capture {
            captured.append((origin.line, reason.code, String(decoding: line.prefix(512), as: UTF8.self)))
        }
        output.rejected(reason, line: line, origin: origin)
    }
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin) { output.late(line: line, origin: origin) }
    func lateSpan(_ span: LateSpan) { output.lateSpan(span) }
    func anomaly(_ anomaly: Anomaly) { output.anomaly(anomaly) }
    func alert(_ event: AlertEvent) { alerts.append(event) }
    /// Where a partition engine's batches go (§8); none during recovery before the worker is set up
    /// (the batches recovery regenerates were sent before the crash or are sent again after it: see
    /// ``EngineHost/resendRecoveredBatches``).
    var onPartial: ((PartialBatch) -> Void)?
    /// Batches made while no ``onPartial`` was set (recovery), kept for the worker to send.
    var unsentPartials: [PartialBatch] = []
    /// The last 100 batches a merger refused, with the reason; how many in all; who logs them.
    var refusedPartials: [(seq: UInt64, reason: String)] = []
    var refusedTotal = 0
    var onRefused: ((UInt64, String) -> Void)?
    func partial(_ batch: PartialBatch) {
        if let onPartial { onPartial(batch) } else { unsentPartials.append(batch) }
    }
    func partialRefused(seq: UInt64, reason: String) {
        refusedPartials.append((seq, reason))
        refusedTotal += 1
        onRefused?(seq, reason)
        if refusedPartials.count > 100 { refusedPartials.removeFirst() }
    }

    func windowClosed(_ window: ClosedWindow) {
        output.windowClosed(window)
        writeSeconds.append(monotonic() - batchStarted)
        if writeSeconds.count > 10_000 { writeSeconds.removeFirst(writeSeconds.count - 10_000) }
        windowObserver?(window)
    }
}
