import CoreMetrics
import GridCarbonStream
import Prometheus

/// A gateway's metrics at `GET /metrics` (Prometheus text): lines forwarded into the stream and
/// rejected on the way, messages stored and found duplicate, publish failures.
final class GatewayMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    let lines: [String: CoreMetrics.Counter]
    let messages: [String: CoreMetrics.Counter]
    let resent: CoreMetrics.Counter
    let failures: CoreMetrics.Counter
    let rounds: CoreMetrics.Counter

    init() {
        let factory = PrometheusMetricsFactory(registry: registry)
        var l: [String: CoreMetrics.Counter] = [:]
        for outcome in ["forwarded", "rejected", "failed"] {
            l[outcome] = CoreMetrics.Counter(label: "gridcarbon_gateway_lines_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        lines = l
        var m: [String: CoreMetrics.Counter] = [:]
        for outcome in ["stored", "duplicate"] {
            m[outcome] = CoreMetrics.Counter(label: "gridcarbon_gateway_messages_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        messages = m
        resent = CoreMetrics.Counter(label: "gridcarbon_gateway_messages_resent_total", factory: factory)
        failures = CoreMetrics.Counter(label: "gridcarbon_gateway_publish_failures_total", factory: factory)
        rounds = CoreMetrics.Counter(label: "gridcarbon_gateway_rounds_total", factory: factory)
    }

    /// Counts one forwarding round.
    func record(_ r: ForwardReport) {
        rounds.increment()
        if r.forwarded > 0 { lines["forwarded"]?.increment(by: r.forwarded) }
        if r.rejected > 0 { lines["rejected"]?.increment(by: r.rejected) }
        if r.failedLines > 0 { lines["failed"]?.increment(by: r.failedLines) }
        if r.messages - r.duplicates > 0 { messages["stored"]?.increment(by: r.messages - r.duplicates) }
        if r.duplicates > 0 { messages["duplicate"]?.increment(by: r.duplicates) }
        if r.resent > 0 { resent.increment(by: r.resent) }
        if r.failed { failures.increment() }
    }

    func text() -> [UInt8] { MetricsCatalog.withHelp(registry.emitToBuffer()) }
}
