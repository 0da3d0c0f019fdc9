import GridCarbonEngine
import GridCarbonModel
import HTTPTypes
import Hummingbird
import NIOCore

/// The read endpoints the dashboard draws from (reference §6): a recent series per key, one
/// province's cities, parks and industries today, and the budgets with their emissions to date.
extension HTTPAPI {
    static func addDashboardQueries(to router: Router<BasicRequestContext>, host: EngineHost) {
        let config = host.configuration
        let formatter = TimeFormatter(zone: config.engine.zone)

        // Recent closed windows of one key, oldest first: `hours` back from the newest window end.
        router.get("/v1/series") { request, _ -> Response in
            let q = request.uri.queryParameters
            let length = try windowParameter(q["window"].map(String.init), config.engine)
            let levelName = q["level"].map(String.init) ?? "national"
            guard let level = Level(name: levelName) else { throw APIError(.badRequest, "bad_level", "unknown level '\(levelName)'") }
            guard let key = q["key"].map(String.init) ?? (level == .national ? "CN" : nil), !key.isEmpty else {
                throw APIError(.badRequest, "bad_key", "key is required for level '\(level.name)'")
            }
            let hoursText = q["hours"].map(String.init) ?? "24"
            guard let hours = Int(hoursText), (1...24 * 366).contains(hours) else {
                throw APIError(.badRequest, "bad_hours", "hours must be a whole number from 1 to 8784")
            }
            let windows = await host.recentWindows(length: length)
            let keyNames = host.registry.keyNames
            let from = (windows.last?.end ?? 0) - Int64(hours) * Time.microsPerHour
            var out = Array("{\"level\":\"\(level.name)\",\"key\":".utf8)
            JSONBytes.appendString(key, to: &out)
            out.append(contentsOf: ",\"window\":\"\(DurationFormat.format(length))\",\"points\":[".utf8)
            var first = true
            for w in windows where w.end > from {
                guard let row = w.rows.first(where: { $0.level == level && keyNames[level.rawValue][Int($0.key)] == key }) else { continue }
                if !first { out.append(0x2C) }
                first = false
                out.append(contentsOf: "{\"window_start\":\"".utf8); formatter.append(w.start, to: &out)
                out.append(contentsOf: "\",\"window_end\":\"".utf8); formatter.append(w.end, to: &out)
                out.append(contentsOf: "\",\"energy_kwh\":".utf8); NumberFormat.append(row.energy, to: &out)
                out.append(contentsOf: ",\"co2_kg\":".utf8); NumberFormat.append(row.co2, to: &out)
                out.append(contentsOf: ",\"intensity_kg_per_kwh\":".utf8)
                if row.energy != 0 { NumberFormat.append(row.co2 / row.energy, to: &out) } else { out.append(contentsOf: "null".utf8) }
                out.append(contentsOf: ",\"realtime_share\":".utf8)
                if row.energy != 0 { NumberFormat.append(row.realtimeEnergy / row.energy, to: &out) } else { out.append(contentsOf: "null".utf8) }
                out.append(0x7D)
            }
            out.append(contentsOf: "]}\n".utf8)
            return json(out)
        }

        // One province's cities, parks and industries today (energy and emissions of its meters).
        router.get("/v1/province") { request, _ -> Response in
            let code = request.uri.queryParameters["key"].map(String.init) ?? ""
            guard let region = Region.index(of: code), region != Region.national else {
                throw APIError(.badRequest, "bad_key", "key must be a province code such as CN-GD")
            }
            let (day, parts, registry) = await host.read { e in
                (e.totals.day, [Level.city, .park, .industry].map { e.totals.day(level: $0, region: region, registry: e.registry) }, e.registry)
            }
            var out = Array("{\"province\":\"\(code)\",\"day\":".utf8)
            if day == Int.min { out.append(contentsOf: "null".utf8) } else { JSONBytes.appendString(TimeFormatter.dateString(localDay: day), to: &out) }
            for (name, level, totals) in [("cities", Level.city, parts[0]), ("parks", .park, parts[1]), ("industries", .industry, parts[2])] {
                out.append(contentsOf: ",\"\(name)\":[".utf8)
                let names = registry.keyNames[level.rawValue]
                for (i, k) in totals.keys.sorted(by: { Array(names[$0].utf8).lexicographicallyPrecedes(Array(names[$1].utf8)) }).enumerated() {
                    if i > 0 { out.append(0x2C) }
                    out.append(contentsOf: "{\"key\":".utf8); JSONBytes.appendString(names[k], to: &out)
                    out.append(contentsOf: ",\"day_energy_kwh\":".utf8); NumberFormat.append(totals[k]!.energy, to: &out)
                    out.append(contentsOf: ",\"day_co2_kg\":".utf8); NumberFormat.append(totals[k]!.co2, to: &out)
                    out.append(0x7D)
                }
                out.append(0x5D)
            }
            out.append(contentsOf: "}\n".utf8)
            return json(out)
        }

        // Every budget a `budget` rule watches, with its emissions to date (reference §5).
        router.get("/v1/budgets") { _, _ -> Response in
            let gauges = await host.read { $0.budgetGauges() }
            var out = Array("{\"budgets\":[".utf8)
            for (i, g) in gauges.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: "{\"level\":\"\(g.level.name)\",\"key\":".utf8); JSONBytes.appendString(g.key, to: &out)
                out.append(contentsOf: ",\"period\":\"\(g.period.rawValue)\",\"budget_kg\":".utf8); NumberFormat.append(g.budgetKg, to: &out)
                out.append(contentsOf: ",\"to_date_kg\":".utf8); NumberFormat.append(g.toDateKg, to: &out)
                out.append(contentsOf: ",\"warn_ratio\":".utf8); NumberFormat.append(g.warnRatio, to: &out)
                out.append(0x7D)
            }
            out.append(contentsOf: "]}\n".utf8)
            return json(out)
        }
    }

    /// A `window` parameter: one of the configured windows; without one, `1h` when configured,
    /// else the shortest.
    static func windowParameter(_ text: String?, _ engine: EngineSettings) throws -> Micros {
        guard let text else { return defaultWindow(engine) }
        guard let d = DurationFormat.parse(text), engine.windows.contains(d) else {
            throw APIError(.badRequest, "bad_window", "window must be one of \(engine.windows.map(DurationFormat.format).joined(separator: ", "))")
        }
        return d
    }

    /// `1h` when configured, else the shortest window: what the series and the dashboard show.
    static func defaultWindow(_ engine: EngineSettings) -> Micros {
        engine.windows.contains(Time.microsPerHour) ? Time.microsPerHour : engine.windows.min() ?? engine.slot
    }

    /// A JSON response.
    static func json(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
