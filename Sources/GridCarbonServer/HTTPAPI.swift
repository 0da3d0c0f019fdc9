import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import GridCarbonStream
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// An API error: JSON `{"error": code, "message": text}` with its status (§6).
public struct APIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var out: [UInt8] = [0x7B]
        JSONBytes.appendKey("error", to: &out); JSONBytes.appendString(code, to: &out); out.append(0x2C)
        JSONBytes.appendKey("message", to: &out); JSONBytes.appendString(message, to: &out)
        out.append(contentsOf: [0x7D, 0x0A])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }
}

/// The HTTP API of §6 on Hummingbird 2.
public enum HTTPAPI {
    public static func router(host: EngineHost, metrics: ServerMetrics, auth: Authenticator, ready: @escaping @Sendable () -> Bool) -> Router<BasicRequestContext> {
        let router = Router()
        let config = host.configuration
        let zone = config.engine.zone
        let formatter = TimeFormatter(zone: zone)
        router.add(middleware: InFlightLimitMiddleware(limit: config.load.maxHTTPRequests))
        router.add(middleware: AuthMiddleware(auth: auth))

        addHealth(to: router, ready: ready)
        router.get("/metrics") { _, _ -> Response in
            let wal = host.walBytes
            metrics.walBytes.record(wal)
            metrics.recordEngineQueue(host.gate)
            let (w, meters, open, today) = await host.read {
                ($0.watermark, $0.registry.liveCount, $0.openSlots, $0.totals.rollUp(level: .province, registry: $0.registry).day.map(\.co2))
            }
            metrics.meters.record(meters)
            metrics.openSlots.record(open)
            metrics.provinceToday(today)  // as /v1/totals answers now, also after a day rolled over
            let lat = await host.windowWriteLatency()
            if lat.count > 0 {
                metrics.windowWrite["p50"]?.record(lat.p50)
                metrics.windowWrite["p99"]?.record(lat.p99)
                metrics.windowWrite["max"]?.record(lat.max)
            }
            if w > Time.distantPast && w < Time.distantFuture {
                metrics.watermark.record(Double(w) / 1e6)
                metrics.watermarkLag.record(Double(Clock.now() - w) / 1e6)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: metrics.text())))
        }

        addRecords(to: router, sink: host, limits: HTTPBodyLimits(config))
        addDashboardQueries(to: router, host: host)
        Dashboard.add(to: router, tokens: auth.required, window: DurationFormat.format(defaultWindow(config.engine)))

        // The meter registry, whole-file replace (§2.1, role admin): validated first, a bad file is
        // a 400 naming the line and changes nothing; answered once the reload is durable.
        router.post("/v1/registry") { request, _ -> Response in
            let body = try await readBody(request, limit: config.maxBodyBytes, idleTimeout: config.load.httpIdleTimeout)
            let change: RegistryChange
            do {
                change = try await host.replaceRegistry(csv: body, origin: "registry")
            } catch let e as TableError {
                throw APIError(.badRequest, "bad_registry", e.description)
            }
            var out: [UInt8] = [0x7B]
            for (i, (k, v)) in [("meters", change.meters), ("added", change.added), ("removed", change.removed),
                                ("changed", change.changed), ("retired", change.retired)].enumerated() {
                if i > 0 { out.append(0x2C) }
                JSONBytes.appendKey(k, to: &out); NumberFormat.appendInt(v, &out)
            }
            out.append(contentsOf: [0x7D, 0x0A])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }

        router.get("/v1/aggregates") { request, _ -> Response in
            let q = request.uri.queryParameters
            var length: Micros?
            if let w = q["window"].map(String.init) {
                guard let d = DurationFormat.parse(w), config.engine.windows.contains(d) else {
                    throw APIError(.badRequest, "bad_window", "window must be one of \(config.engine.windows.map(DurationFormat.format).joined(separator: ", "))")
                }
                length = d
            }
            let level = try q["level"].map { name -> Level in
                guard let l = Level(name: String(name)) else { throw APIError(.badRequest, "bad_level", "unknown level '\(name)'") }
                return l
            }
            let key = q["key"].map(String.init)
            let limit = Int(q["limit"].map(String.init) ?? "") ?? 24
            let windows = await host.recentWindows(length: length).suffix(max(1, min(limit, 1000)))
            // Read after the windows: key indices are only appended to, so this names all of them.
            let keyNames = host.registry.keyNames
            var out = Array("{\"windows\":[".utf8)
            for (i, w) in windows.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: "{\"window\":\"\(DurationFormat.format(w.length))\",\"window_start\":\"".utf8)
                formatter.append(w.start, to: &out)
                out.append(contentsOf: "\",\"window_end\":\"".utf8)
                formatter.append(w.end, to: &out)
                out.append(contentsOf: "\",\"rows\":[".utf8)
                var first = true
                for row in w.rows {
                    if let level, row.level != level { continue }
                    let name = keyNames[row.level.rawValue][Int(row.key)]
                    if let key, name != key { continue }
                    if !first { out.append(0x2C) }
                    first = false
                    out.append(contentsOf: "{\"level\":\"\(row.level.name)\",\"key\":".utf8)
                    JSONBytes.appendString(name, to: &out)
                    out.append(contentsOf: ",\"energy_kwh\":".utf8); NumberFormat.append(row.energy, to: &out)
                    out.append(contentsOf: ",\"co2_kg\":".utf8); NumberFormat.append(row.co2, to: &out)
                    out.append(contentsOf: ",\"intensity_kg_per_kwh\":".utf8)
                    if row.energy != 0 { NumberFormat.append(row.co2 / row.energy, to: &out) } else { out.append(contentsOf: "null".utf8) }
                    out.append(contentsOf: ",\"meters\":\(row.meters),\"spans\":\(row.spans),\"realtime_share\":".utf8)
                    if row.energy != 0 { NumberFormat.append(row.realtimeEnergy / row.energy, to: &out) } else { out.append(contentsOf: "null".utf8) }
                    out.append(0x7D)
                }
                out.append(contentsOf: "]}".utf8)
            }
            out.append(contentsOf: "]}\n".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }

        router.get("/v1/totals") { request, _ -> Response in
            let q = request.uri.queryParameters
            let levelName = q["level"].map(String.init) ?? "province"
            guard let level = Level(name: levelName) else { throw APIError(.badRequest, "bad_level", "unknown level '\(levelName)'") }
            let key = q["key"].map(String.init)
            let (day, totals, registry) = await host.read { e in (e.totals.day, e.totals.rollUp(level: level, registry: e.registry), e.registry) }
            var out = Array("{\"level\":\"\(level.name)\",\"day\":".utf8)
            if day == Int.min { out.append(contentsOf: "null".utf8) } else { JSONBytes.appendString(TimeFormatter.dateString(localDay: day), to: &out) }
            out.append(contentsOf: ",\"totals\":[".utf8)
            var first = true
            let names = registry.keyNames[level.rawValue]
            for k in names.indices.sorted(by: { Array(names[$0].utf8).lexicographicallyPrecedes(Array(names[$1].utf8)) }) {
                if let key, names[k] != key { continue }
                if totals.year[k].energy == 0 && key == nil { continue }
                if !first { out.append(0x2C) }
                first = false
                out.append(contentsOf: "{\"key\":".utf8); JSONBytes.appendString(names[k], to: &out)
                for (name, p) in [("day", totals.day[k]), ("month", totals.month[k]), ("year", totals.year[k])] {
                    out.append(contentsOf: ",\"\(name)_energy_kwh\":".utf8); NumberFormat.append(p.energy, to: &out)
                    out.append(contentsOf: ",\"\(name)_co2_kg\":".utf8); NumberFormat.append(p.co2, to: &out)
                }
                out.append(0x7D)
            }
            out.append(contentsOf: "]}\n".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }

        router.get("/v1/factors") { request, _ -> Response in
            let q = request.uri.queryParameters
            let interval = try inForceInterval(at: q["at"].map(String.init), window: q["window"].map(String.init), config.engine)
            let (annual, feeds, inForce) = await host.read { e -> (AnnualFactorTable, [(Int, [(Micros, Micros, Double)], [(Micros, Micros, Source, Double)])], [FactorInForce]?) in
                (e.factors.annual, Region.provinces.compactMap { r in
                    let s = e.factors.snapshot(region: r)
                    return s.factors.isEmpty && s.mixes.isEmpty ? nil : (r, s.factors, s.mixes)
                }, interval.map { e.factorsInForce(start: $0.start, end: $0.end) })
            }
            var out = Array("{\"annual\":[".utf8)
            for (i, row) in annual.rows.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: "{\"year\":\(row.year),\"region\":\"\(Region.codes[row.region])\",\"kind\":".utf8)
                JSONBytes.appendString(row.kind, to: &out)
                out.append(contentsOf: ",\"kg_per_kwh\":".utf8); NumberFormat.append(row.kgPerKWh, to: &out)
                out.append(contentsOf: ",\"source\":".utf8); JSONBytes.appendString(row.source, to: &out)
                out.append(0x7D)
            }
            out.append(contentsOf: "],\"realtime\":[".utf8)
            var first = true
            for (r, fs, ms) in feeds {
                for f in fs {
                    if !first { out.append(0x2C) }; first = false
                    out.append(contentsOf: "{\"region\":\"\(Region.codes[r])\",\"kind\":\"f\",\"start\":\"".utf8)
                    formatter.append(f.0, to: &out); out.append(contentsOf: "\",\"end\":\"".utf8); formatter.append(f.1, to: &out)
                    out.append(contentsOf: "\",\"kg_per_kwh\":".utf8); NumberFormat.append(f.2, to: &out); out.append(0x7D)
                }
                for m in ms {
                    if !first { out.append(0x2C) }; first = false
                    out.append(contentsOf: "{\"region\":\"\(Region.codes[r])\",\"kind\":\"m\",\"start\":\"".utf8)
                    formatter.append(m.0, to: &out); out.append(contentsOf: "\",\"end\":\"".utf8); formatter.append(m.1, to: &out)
                    out.append(contentsOf: "\",\"source\":\"\(m.2.name)\",\"mwh\":".utf8); NumberFormat.append(m.3, to: &out); out.append(0x7D)
                }
            }
            out.append(0x5D)
            if let interval, let inForce { appendInForce(inForce, interval: interval, formatter: formatter, to: &out) }
            out.append(contentsOf: "}\n".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }
        return router
    }

    /// `GET /healthz` (alive) and `GET /readyz` (200 once `ready()`, else 503).
    static func addHealth(to router: Router<BasicRequestContext>, ready: @escaping @Sendable () -> Bool) {
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/readyz") { _, _ -> Response in
            guard ready() else { throw APIError(.serviceUnavailable, "not_ready", "recovering or shutting down") }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
    }

    /// Reads a whole request body up to `limit` bytes (received and decoded), decoding
    /// `Content-Encoding: zstd|gzip` as it arrives and stopping at the limit (413); a client
    /// slower than the `http_idle_timeout` bound is cut off (408).
    static func readBody(_ request: Request, limit: Int, idleTimeout: Micros) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw HTTPBodyDecoder.tooLarge(limit)
        }
        return try await HTTPBodyClock.bounding(idleTimeout) { clock in
            let decoder = try HTTPBodyDecoder(encoding: request.headers[.contentEncoding], limit: limit)
            var out: [UInt8] = []
            var body = request.body.makeAsyncIterator()
            while let piece = try await RecordsBody.nextPiece(&body, clock: clock) {
                try decoder.feed(piece) { out.append(contentsOf: $0) }
            }
            try decoder.finish()
            return out
        }
    }
}
