import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// Collects everything the engine emits, in order.
final class CollectingSink: EngineSink {
    var rejected: [(RejectReason, String, LineOrigin)] = []
    var late: [String] = []
    var lateSpans: [LateSpan] = []
    var anomalies: [Anomaly] = []
    var windows: [ClosedWindow] = []

    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        rejected.append((reason, String(decoding: line, as: UTF8.self), origin))
    }
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin) { late.append(String(decoding: line, as: UTF8.self)) }
    func lateSpan(_ span: LateSpan) { lateSpans.append(span) }
    func anomaly(_ anomaly: Anomaly) { anomalies.append(anomaly) }
    func windowClosed(_ window: ClosedWindow) { windows.append(window) }
    var alerts: [AlertEvent] = []
    func alert(_ event: AlertEvent) { alerts.append(event) }

    /// Rows of windows of one length, as (window start, level, key name, row).
    func rows(length: Micros, registry: Registry) -> [(Micros, Level, String, AggregateRow)] {
        windows.filter { $0.length == length }.flatMap { w in
            w.rows.map { (w.start, $0.level, registry.keyNames[$0.level.rawValue][Int($0.key)], $0) }
        }
    }

    func row(length: Micros, start: Micros, level: Level, key: String, registry: Registry) -> AggregateRow? {
        rows(length: length, registry: registry).first { $0.0 == start && $0.1 == level && $0.2 == key }?.3
    }
}

/// A small harness: a registry, settings, lines in, sink out.
struct Harness {
    let registry: Registry
    let sink = CollectingSink()
    let engine: Engine

    init(registry csv: String = Harness.defaultRegistry, settings: EngineSettings = EngineSettings(),
         annual: AnnualFactorTable = .embedded, now: Micros = Harness.t("2030-01-01T00:00:00+08:00")) {
        registry = try! Registry(csv: csv, origin: "test", meterLevel: settings.levels.contains(.meter))
        engine = Engine(settings: settings, registry: registry, annual: annual, sink: sink, now: now)
    }

    static let defaultRegistry = """
    meter_id,region,city,park,enterprise,industry,max_kw
    A,CN-GD,SZ,P1,E1,C,1000
    B,CN-GD,GZ,,E2,D,
    C,CN-YN,KM,,,C,
    T,CN-XZ,LS,,E3,C,
    """

    /// Feeds lines (one per element) and optionally ends the input.
    @discardableResult
    func feed(_ lines: [String], finish: Bool = true) -> Harness {
        var text = lines.joined(separator: "\n") + "\n"
        var line: Int64 = 1
        let src = engine.source(named: "test")
        text.withUTF8 { _ = engine.ingest(UnsafeRawBufferPointer($0), source: src, line: &line) }
        if finish { engine.finish() }
        return self
    }

    static func t(_ s: String) -> Micros {
        var s = s
        return s.withUTF8 { ByteParsing.timestamp(UnsafeRawBufferPointer($0))! }
    }

    func row(_ len: String, _ start: String, _ level: Level, _ key: String) -> AggregateRow? {
        sink.row(length: DurationFormat.parse(len)!, start: Harness.t(start), level: level, key: key, registry: registry)
    }
}

func approx(_ a: Double, _ b: Double, rel: Double = 1e-12) -> Bool {
    abs(a - b) <= rel * max(abs(a), abs(b), 1e-300) || a == b
}
