import CoreMetrics
import GridCarbonModel
import Prometheus

/// The merger's progress at `GET /metrics` (§8): how far each partition's batches have come, and
/// what waits. A partition whose `gridcarbon_merge_closed_before_timestamp_seconds` stays behind the others
/// holds every window open: its worker is down, slow, or its partition receives nothing and its
/// idle ticks do not arrive. The spread is over the partitions that have sent a batch; one that
/// never has shows a partial sequence of 0.
final class MergeMetrics: @unchecked Sendable {
    let closedBefore: [CoreMetrics.Gauge]
    let partialSequence: [CoreMetrics.Gauge]
    let spread: CoreMetrics.Gauge
    let gridThrough: CoreMetrics.Gauge
    let pendingSlots: CoreMetrics.Gauge
    let duplicateBatches: CoreMetrics.Counter
    let refusedBatches: CoreMetrics.Counter
    /// The merger's counts already added to the counters (``record(_:)`` runs on the engine queue only).
    private var duplicatesSeen: Int64 = 0, refusedSeen: Int64 = 0

    init(partitions: Int, factory: PrometheusMetricsFactory) {
        closedBefore = (0..<partitions).map {
            CoreMetrics.Gauge(label: "gridcarbon_merge_closed_before_timestamp_seconds", dimensions: [("partition", "\($0)")], factory: factory)
        }
        partialSequence = (0..<partitions).map {
            CoreMetrics.Gauge(label: "gridcarbon_merge_partial_sequence", dimensions: [("partition", "\($0)")], factory: factory)
        }
        spread = CoreMetrics.Gauge(label: "gridcarbon_merge_partition_spread_seconds", factory: factory)
        gridThrough = CoreMetrics.Gauge(label: "gridcarbon_merge_grid_through_sequence", factory: factory)
        pendingSlots = CoreMetrics.Gauge(label: "gridcarbon_merge_pending_slots", factory: factory)
        duplicateBatches = CoreMetrics.Counter(label: "gridcarbon_merge_duplicate_batches_total", factory: factory)
        refusedBatches = CoreMetrics.Counter(label: "gridcarbon_merge_refused_batches_total", factory: factory)
        duplicateBatches.increment(by: 0)
        refusedBatches.increment(by: 0)
    }

    /// Records `status` (called on the engine queue after each batch of stream items).
    func record(_ status: MergeStatus) {
        var low = Int64.max, high = Int64.min
        for (p, step) in status.partitions.enumerated() where p < closedBefore.count {
            partialSequence[p].record(Int64(step.seq))
            // A partition that sent nothing yet has no slot: leave its gauge unset (0).
            guard step.seq > 0 else { continue }
            closedBefore[p].record(Double(step.closedBefore) / 1e6)
            low = min(low, step.closedBefore)
            high = max(high, step.closedBefore)
        }
        spread.record(high >= low ? Double(high - low) / 1e6 : 0)
        gridThrough.record(Int64(status.gridThrough))
        pendingSlots.record(status.pendingSlots)
        let duplicates = Int64(status.duplicateBatches), refused = Int64(status.refusedTotal)
        if duplicates > duplicatesSeen { duplicateBatches.increment(by: duplicates - duplicatesSeen); duplicatesSeen = duplicates }
        if refused > refusedSeen { refusedBatches.increment(by: refused - refusedSeen); refusedSeen = refused }
    }
}
