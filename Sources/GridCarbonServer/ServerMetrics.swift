import CoreMetrics
import GridCarbonEngine
import GridCarbonModel
import Metrics
import Prometheus

/// The daemon's metrics (swift-metrics, exported by swift-prometheus at `GET /metrics`).
public final class ServerMetrics: @unchecked Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let records: [String: CoreMetrics.Counter]
    let acceptedByKind: [String: CoreMetrics.Counter]
    let openSlots: CoreMetrics.Gauge
    let watermark: CoreMetrics.Gauge
    let watermarkLag: CoreMetrics.Gauge
    let meters: CoreMetrics.Gauge
    let walBytes: CoreMetrics.Gauge
    let fsyncSeconds: CoreMetrics.Timer
    let windowWriteSeconds: CoreMetrics.Timer
    let windows: CoreMetrics.Counter
    let windowWrite: [String: CoreMetrics.Gauge]
    let intensity: [Int: CoreMetrics.Gauge]
    let emissionsToday: [Int: CoreMetrics.Gauge]

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        var r: [String: CoreMetrics.Counter] = [:]
        for outcome in ["accepted", "duplicate", "rejected", "late"] {
            r[outcome] = CoreMetrics.Counter(label: "gridcarbon_records_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        records = r
        var k: [String: CoreMetrics.Counter] = [:]
        for kind in ["r", "i", "f", "m", "x", "o", "c"] {
            k[kind] = CoreMetrics.Counter(label: "gridcarbon_records_accepted_by_kind_total", dimensions: [("kind", kind)], factory: factory)
        }
        acceptedByKind = k
        openSlots = CoreMetrics.Gauge(label: "gridcarbon_open_slots", factory: factory)
        watermark = CoreMetrics.Gauge(label: "gridcarbon_watermark_seconds", factory: factory)
        watermarkLag = CoreMetrics.Gauge(label: "gridcarbon_watermark_lag_seconds", factory: factory)
        meters = CoreMetrics.Gauge(label: "gridcarbon_registry_meters", factory: factory)
        walBytes = CoreMetrics.Gauge(label: "gridcarbon_wal_bytes", factory: factory)
        fsyncSeconds = CoreMetrics.Timer(label: "gridcarbon_wal_fsync_seconds", factory: factory)
        windowWriteSeconds = CoreMetrics.Timer(label: "gridcarbon_window_write_seconds", factory: factory)
        windows = CoreMetrics.Counter(label: "gridcarbon_windows_written_total", factory: factory)
        let f = factory
        windowWrite = Dictionary(uniqueKeysWithValues: ["p50", "p99", "max"].map {
            ($0, CoreMetrics.Gauge(label: "gridcarbon_window_write_seconds_\($0)", factory: f))
        })
        var i: [Int: CoreMetrics.Gauge] = [:], e: [Int: CoreMetrics.Gauge] = [:]
        for reg in Region.provinces {
            i[reg] = CoreMetrics.Gauge(label: "gridcarbon_intensity_last_hour_kg_per_kwh", dimensions: [("province", Region.codes[reg])], factory: factory)
            e[reg] = CoreMetrics.Gauge(label: "gridcarbon_emissions_today_kg", dimensions: [("province", Region.codes[reg])], factory: factory)
        }
        intensity = i
        emissionsToday = e
    }

    func count(_ c: LineCounts, kinds: KindCounts) {
        if kinds.register > 0 { acceptedByKind["r"]?.increment(by: kinds.register) }
        if kinds.interval > 0 { acceptedByKind["i"]?.increment(by: kinds.interval) }
        if kinds.factor > 0 { acceptedByKind["f"]?.increment(by: kinds.factor) }
        if kinds.mix > 0 { acceptedByKind["m"]?.increment(by: kinds.mix) }
        if kinds.exchange > 0 { acceptedByKind["x"]?.increment(by: kinds.exchange) }
        if kinds.output > 0 { acceptedByKind["o"]?.increment(by: kinds.output) }
        if kinds.contract > 0 { acceptedByKind["c"]?.increment(by: kinds.contract) }
        if c.accepted > 0 { records["accepted"]?.increment(by: c.accepted) }
        if c.duplicate > 0 { records["duplicate"]?.increment(by: c.duplicate) }
        if c.rejected > 0 { records["rejected"]?.increment(by: c.rejected) }
        if c.late > 0 { records["late"]?.increment(by: c.late) }
    }

    /// A closed window: hourly windows set the per-province intensity gauges.
    func window(_ w: ClosedWindow, registry r: Registry) {
        windows.increment()
        guard w.length == Time.microsPerHour else { return }
        for row in w.rows where row.level == .province && row.energy > 0 {
            intensity[Int(row.key)]?.record(row.co2 / row.energy)
        }
    }

    public func text() -> [UInt8] { registry.emitToBuffer() }

    func provinceToday(_ co2: [Double]) {
        for (region, gauge) in emissionsToday where region < co2.count { gauge.record(co2[region]) }
    }

    func fsync(seconds: Double) {
        fsyncSeconds.recordNanoseconds(Int64(seconds * 1e9))
    }
}
