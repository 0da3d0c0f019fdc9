import CoreMetrics
import GridCarbonEngine
import GridCarbonModel
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The daemon's metrics (swift-metrics, exported by swift-prometheus at `GET /metrics`; each is
/// documented in docs/metrics.md, reference §6).
public final class ServerMetrics: @unchecked Sendable {
    /// Buckets of `gridcarbon_wal_fsync_seconds`: 100 µs to 5 s (an SSD fsync takes well under a
    /// millisecond to a few; a disk in trouble, hundreds).
    public static let fsyncBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2) + .microseconds(500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]
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
    let emissionsLastHour: [Int: CoreMetrics.Gauge]
    let energyLastHour: [Int: CoreMetrics.Gauge]
    let emissionsTotal: [Int: CoreMetrics.FloatingPointCounter]
    let energyTotal: [Int: CoreMetrics.FloatingPointCounter]
    let engineQueueWaits: CoreMetrics.Counter
    private let lock = NIOLock()
    private var engineQueueWaitsSeen: Int64 = 0

    public init() {
        registry = PrometheusCollectorRegistry()
        var made = PrometheusMetricsFactory(registry: registry)
        made.durationHistogramBuckets["gridcarbon_wal_fsync_seconds"] = Self.fsyncBuckets
        factory = made
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
        watermark = CoreMetrics.Gauge(label: "gridcarbon_watermark_timestamp_seconds", factory: factory)
        watermarkLag = CoreMetrics.Gauge(label: "gridcarbon_watermark_lag_seconds", factory: factory)
        meters = CoreMetrics.Gauge(label: "gridcarbon_registry_meters", factory: factory)
        walBytes = CoreMetrics.Gauge(label: "gridcarbon_wal_bytes", factory: factory)
        fsyncSeconds = CoreMetrics.Timer(label: "gridcarbon_wal_fsync_seconds", factory: factory)
        windowWriteSeconds = CoreMetrics.Timer(label: "gridcarbon_window_write_seconds", factory: factory)
        windows = CoreMetrics.Counter(label: "gridcarbon_windows_written_total", factory: factory)
        let f = factory
        windowWrite = Dictionary(uniqueKeysWithValues: ["p50", "p99", "max"].map {
            ($0, CoreMetrics.Gauge(label: "gridcarbon_window_write_recent_seconds", dimensions: [("stat", $0)], factory: f))
        })
        engineQueueWaits = CoreMetrics.Counter(label: "gridcarbon_engine_queue_waits_total", factory: factory)
        func perProvince<T>(_ make: (String) -> T) -> [Int: T] {
            Dictionary(uniqueKeysWithValues: Region.provinces.map { ($0, make(Region.codes[$0])) })
        }
        intensity = perProvince { CoreMetrics.Gauge(label: "gridcarbon_intensity_last_hour_kg_per_kwh", dimensions: [("province", $0)], factory: f) }
        emissionsToday = perProvince { CoreMetrics.Gauge(label: "gridcarbon_emissions_today_kg", dimensions: [("province", $0)], factory: f) }
        emissionsLastHour = perProvince { CoreMetrics.Gauge(label: "gridcarbon_emissions_last_hour_kg", dimensions: [("province", $0)], factory: f) }
        energyLastHour = perProvince { CoreMetrics.Gauge(label: "gridcarbon_energy_last_hour_kwh", dimensions: [("province", $0)], factory: f) }
        emissionsTotal = perProvince { CoreMetrics.FloatingPointCounter(label: "gridcarbon_emissions_kg_total", dimensions: [("province", $0)], factory: f) }
        energyTotal = perProvince { CoreMetrics.FloatingPointCounter(label: "gridcarbon_energy_kwh_total", dimensions: [("province", $0)], factory: f) }
        // Every province's counters and gauges are exported from the start, at 0.
        for (_, c) in emissionsTotal { c.increment(by: 0) }
        for (_, c) in energyTotal { c.increment(by: 0) }
        engineQueueWaits.increment(by: 0)
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

    /// A closed window: windows of the shortest length (`shortest`) add to the per-province
    /// emission and energy counters; hourly windows set the per-province last-hour gauges (every
    /// province: 0 for one without rows) and intensity (provinces with energy).
    func window(_ w: ClosedWindow, registry r: Registry, shortest: Bool) {
        windows.increment()
        if shortest {
            for row in w.rows where row.level == .province {
                emissionsTotal[Int(row.key)]?.increment(by: row.co2)
                energyTotal[Int(row.key)]?.increment(by: row.energy)
            }
        }
        guard w.length == Time.microsPerHour else { return }
        var co2 = [Int: Double](), energy = [Int: Double]()
        for row in w.rows where row.level == .province {
            co2[Int(row.key)] = row.co2
            energy[Int(row.key)] = row.energy
            if row.energy > 0 { intensity[Int(row.key)]?.record(row.co2 / row.energy) }
        }
        for (p, g) in emissionsLastHour { g.record(co2[p] ?? 0) }
        for (p, g) in energyLastHour { g.record(energy[p] ?? 0) }
    }

    /// The Prometheus text, with a `# HELP` line per family (``MetricsCatalog``).
    public func text() -> [UInt8] { MetricsCatalog.withHelp(registry.emitToBuffer()) }

    /// Brings `gridcarbon_engine_queue_waits_total` up to `waits` (the gate's count since the start).
    func engineQueueWaits(_ waits: Int64) {
        let delta = lock.withLock { () -> Int64 in
            let d = waits - engineQueueWaitsSeen
            if d > 0 { engineQueueWaitsSeen = waits }
            return d
        }
        if delta > 0 { engineQueueWaits.increment(by: delta) }
    }

    func provinceToday(_ co2: [Double]) {
        for (region, gauge) in emissionsToday where region < co2.count { gauge.record(co2[region]) }
    }

    func fsync(seconds: Double) {
        fsyncSeconds.recordNanoseconds(Int64(seconds * 1e9))
    }
}
