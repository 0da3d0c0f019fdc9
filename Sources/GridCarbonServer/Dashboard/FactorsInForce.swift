import GridCarbonEngine
import GridCarbonModel
import Hummingbird

/// `GET /v1/factors?at=TIME[&window=LEN]`: each province's factor over the slot (or window)
/// holding `TIME` and the §3.3 rule it came from (reference §6).
extension HTTPAPI {
    /// The interval of `at` and `window` (the resolution slot by default, else one of the
    /// configured windows), aligned to the zone; nil without `at`.
    static func inForceInterval(at: String?, window: String?, _ engine: EngineSettings) throws -> (start: Micros, end: Micros)? {
        guard let text = at else { return nil }
        // A `+` left unescaped in a query reads as a space: take it back.
        let bytes = text.utf8.map { $0 == 0x20 ? 0x2B : $0 }
        guard let t = bytes.withUnsafeBytes({ ByteParsing.timestamp($0) }) else {
            throw APIError(.badRequest, "bad_time", "at must be RFC 3339 with seconds and an offset, or Unix seconds")
        }
        var length = engine.slot
        if let w = window {
            guard let d = DurationFormat.parse(w), d == engine.slot || engine.windows.contains(d) else {
                throw APIError(.badRequest, "bad_window", "window must be the resolution or one of \(engine.windows.map(DurationFormat.format).joined(separator: ", "))")
            }
            length = d
        }
        let offset = engine.zone.offsetMicros
        let start = Time.floorDiv(t &+ offset, length) * length - offset
        return (start, start + length)
    }

    /// `,"in_force_start":…,"in_force_end":…,"in_force":[{"region","kg_per_kwh","basis"}]` for the 31 provinces.
    static func appendInForce(_ inForce: [FactorInForce], interval: (start: Micros, end: Micros), formatter: TimeFormatter, to out: inout [UInt8]) {
        out.append(contentsOf: ",\"in_force_start\":\"".utf8); formatter.append(interval.start, to: &out)
        out.append(contentsOf: "\",\"in_force_end\":\"".utf8); formatter.append(interval.end, to: &out)
        out.append(contentsOf: "\",\"in_force\":[".utf8)
        for r in Region.provinces {
            if r > Region.provinces.lowerBound { out.append(0x2C) }
            out.append(contentsOf: "{\"region\":\"\(Region.codes[r])\",\"kg_per_kwh\":".utf8)
            NumberFormat.append(inForce[r].kgPerKWh, to: &out)
            out.append(contentsOf: ",\"basis\":\"\(inForce[r].basis.name)\"}".utf8)
        }
        out.append(0x5D)
    }
}
