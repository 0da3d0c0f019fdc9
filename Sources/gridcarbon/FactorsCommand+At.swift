import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// `factors --at TIME --records FILE…`: every province's factor at one instant, with the rule of
/// reference §3.3 that gave it (`flow_traced` where exchange records make rule 2 flow-traced, §9.3).
final class DiscardingSink: EngineSink {
    var rejected: [(RejectReason, String)] = []
    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        if reason == .unknownMeter { return }   // meter records: no registry here, and not wanted
        rejected.append((reason, String(decoding: line, as: UTF8.self)))
    }
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin) {}
    func lateSpan(_ span: LateSpan) {}
    func anomaly(_ anomaly: Anomaly) {}
    func windowClosed(_ window: ClosedWindow) {}
}

extension FactorsCommand {
    func printAt(_ at: String, engine options: SettingsOptions) throws {
        let settings = try options.settings()
        let (annual, sources) = try options.tables()
        var stamp = at
        guard let t = stamp.withUTF8({ ByteParsing.timestamp(UnsafeRawBufferPointer($0)) }) else {
            throw ConfigurationError(.badValue, message: "--at '\(at)' is not an RFC 3339 time with an offset, nor Unix seconds")
        }
        let sink = DiscardingSink()
        let engine = Engine(settings: settings, registry: Registry(meterLevel: false), annual: annual, sources: sources, sink: sink, now: Time.distantFuture / 2)
        for path in records {
            let bytes = try Files.read(path)
            var line: Int64 = 1
            let source = engine.source(named: path)
            bytes.withUnsafeBytes { b in
                let used = engine.ingest(b, source: source, line: &line)
                if used < b.count { engine.ingestLine(UnsafeRawBufferPointer(rebasing: b[used...]), origin: LineOrigin(source: source, line: line)) }
            }
        }
        for (reason, line) in sink.rejected.prefix(5) { printError("factors: rejected (\(reason.code)): \(line)\n") }
        if sink.rejected.count > 5 { printError("factors: \(sink.rejected.count - 5) more lines rejected\n") }
        if timeSolve > 0 {
            // Cost of the flow-traced solve (reference §9.3): the whole system, uncached, N times.
            let n = engine.factors.flowTracedFactors(at: t).count
            let clock = ContinuousClock()
            var sink = 0.0
            let d = clock.measure {
                for _ in 0..<timeSolve { sink += engine.factors.solveFlow(at: t).values.reduce(0, +) }
            }
            let us = Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
            printError("factors: flow-traced solve over \(n) provinces: \(NumberFormat.string(us / Double(timeSolve))) µs per solve (\(timeSolve) solves, checksum \(NumberFormat.string(sink)))\n")
        }
        let f = TimeFormatter(zone: settings.zone)
        if csv { print("region,kg_per_kwh,rule") } else { print("Factors at \(f.string(t)), kg CO2/kWh, by the rule of reference §3.3 that gave each:") }
        for r in Region.provinces {
            let (v, rule) = engine.factors.instantFactor(region: r, at: t)
            if csv {
                print("\(Region.codes[r]),\(v),\(rule.rawValue)")   // full precision (shortest round trip)
            } else {
                print("  " + pad(Region.codes[r], 7) + pad(NumberFormat.string(v), 10) + rule.rawValue)
            }
        }
    }
}
