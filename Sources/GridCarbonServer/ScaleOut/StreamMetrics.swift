import CoreMetrics
import Prometheus

/// Metrics of a worker's partitions and of the merger (§8), at `GET /metrics` beside the others.
final class StreamMetrics: @unchecked Sendable {
    let lag: [Int: CoreMetrics.Gauge]
    let fetchBatch: [Int: CoreMetrics.Recorder]
    let redeliveries: [Int: CoreMetrics.Counter]
    let applied: [Int: CoreMetrics.Gauge]
    let batchesSent: [Int: CoreMetrics.Counter]
    let idleTicks: [Int: CoreMetrics.Counter]
    let consumerRestarts: [Int: CoreMetrics.Counter]

    init(partitions: [Int], factory: PrometheusMetricsFactory) {
        func per<T>(_ make: (Int) -> T) -> [Int: T] { Dictionary(uniqueKeysWithValues: partitions.map { ($0, make($0)) }) }
        lag = per { CoreMetrics.Gauge(label: "gridcarbon_partition_lag_messages", dimensions: [("partition", "\($0)")], factory: factory) }
        fetchBatch = per { CoreMetrics.Recorder(label: "gridcarbon_fetch_batch_messages", dimensions: [("partition", "\($0)")], aggregate: true, factory: factory) }
        redeliveries = per { CoreMetrics.Counter(label: "gridcarbon_redeliveries_total", dimensions: [("partition", "\($0)")], factory: factory) }
        applied = per { CoreMetrics.Gauge(label: "gridcarbon_stream_sequence_applied", dimensions: [("partition", "\($0)")], factory: factory) }
        batchesSent = per { CoreMetrics.Counter(label: "gridcarbon_partial_batches_sent_total", dimensions: [("partition", "\($0)")], factory: factory) }
        consumerRestarts = per { CoreMetrics.Counter(label: "gridcarbon_consumer_recreated_total", dimensions: [("partition", "\($0)")], factory: factory) }
        idleTicks = per { CoreMetrics.Counter(label: "gridcarbon_idle_ticks_total", dimensions: [("partition", "\($0)")], factory: factory) }
    }
}
