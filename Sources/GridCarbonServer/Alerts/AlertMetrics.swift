import NIOConcurrencyHelpers
import CoreMetrics
import GridCarbonIO
import Metrics
import Prometheus

/// Alert delivery metrics (swift-metrics, exported with the daemon's other metrics at `GET /metrics`):
/// `gridcarbon_alert_events_total{state}`, `gridcarbon_alert_active`,
/// `gridcarbon_alert_sse_subscribers`, `gridcarbon_alert_delivery_failures_total{target}` and
/// `gridcarbon_alert_delivery_lag_events{target}` (events in the log not yet delivered),
/// `gridcarbon_alert_log_segments_pruned_total` (segments removed by retention) and
/// `gridcarbon_alert_delivery_skipped_events_total{target}` (events a deliverer never sent: they
/// were pruned from the log before it got to them).
public final class AlertMetrics: @unchecked Sendable {
    let factory: PrometheusMetricsFactory?
    let events: [String: CoreMetrics.Counter]
    let active: CoreMetrics.Gauge
    let subscribers: CoreMetrics.Gauge
    let prunedSegments: CoreMetrics.Counter
    private let lock = NIOLock()
    private var failures: [String: CoreMetrics.Counter] = [:]
    private var lags: [String: CoreMetrics.Gauge] = [:]
    private var skips: [String: CoreMetrics.Counter] = [:]
    private var subscriberCount = 0

    /// Metrics registered with the daemon's Prometheus registry, or (nil) with the global
    /// swift-metrics factory (tests).
    public init(registry: ServerMetrics? = nil) {
        let f = registry?.factory
        factory = f
        func counter(_ label: String, _ dims: [(String, String)]) -> CoreMetrics.Counter {
            f.map { CoreMetrics.Counter(label: label, dimensions: dims, factory: $0) } ?? CoreMetrics.Counter(label: label, dimensions: dims)
        }
        func gauge(_ label: String) -> CoreMetrics.Gauge {
            f.map { CoreMetrics.Gauge(label: label, factory: $0) } ?? CoreMetrics.Gauge(label: label)
        }
        events = ["firing": counter("gridcarbon_alert_events_total", [("state", "firing")]),
                  "resolved": counter("gridcarbon_alert_events_total", [("state", "resolved")])]
        active = gauge("gridcarbon_alert_active")
        subscribers = gauge("gridcarbon_alert_sse_subscribers")
        prunedSegments = counter("gridcarbon_alert_log_segments_pruned_total", [])
        subscribers.record(0)
        active.record(0)
    }

    func event(state: String) { events[state]?.increment() }

    func subscriberDelta(_ d: Int) {
        let n = lock.withLock { subscriberCount += d; return subscriberCount }
        subscribers.record(n)
    }

    func deliveryFailed(target: String) {
        let c = lock.withLock { () -> CoreMetrics.Counter in
            if let c = failures[target] { return c }
            let dims = [("target", target)]
            let c = factory.map { CoreMetrics.Counter(label: "gridcarbon_alert_delivery_failures_total", dimensions: dims, factory: $0) }
                ?? CoreMetrics.Counter(label: "gridcarbon_alert_delivery_failures_total", dimensions: dims)
            failures[target] = c
            return c
        }
        c.increment()
    }

    func lag(target: String, events: Int64) {
        let g = lock.withLock { () -> CoreMetrics.Gauge in
            if let g = lags[target] { return g }
            let dims = [("target", target)]
            let g = factory.map { CoreMetrics.Gauge(label: "gridcarbon_alert_delivery_lag_events", dimensions: dims, factory: $0) }
                ?? CoreMetrics.Gauge(label: "gridcarbon_alert_delivery_lag_events", dimensions: dims)
            lags[target] = g
            return g
        }
        g.record(events)
    }

    func pruned(segments: Int) { prunedSegments.increment(by: Int64(segments)) }

    func skipped(target: String, events: Int64) {
        let c = lock.withLock { () -> CoreMetrics.Counter in
            if let c = skips[target] { return c }
            let dims = [("target", target)]
            let c = factory.map { CoreMetrics.Counter(label: "gridcarbon_alert_delivery_skipped_events_total", dimensions: dims, factory: $0) }
                ?? CoreMetrics.Counter(label: "gridcarbon_alert_delivery_skipped_events_total", dimensions: dims)
            skips[target] = c
            return c
        }
        c.increment(by: events)
    }
}
