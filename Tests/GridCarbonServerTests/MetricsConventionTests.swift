import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
@testable import GridCarbonServer

/// `/metrics` of a real daemon fed the worked example follows Prometheus conventions (reference §6,
/// docs/metrics.md): every family has `# HELP` and `# TYPE`, counters end in `_total` and only
/// they do, labels come from a bounded set, every family is documented; and the carbon series
/// agree with the API.
@Suite(.serialized)
struct MetricsConventionTests {
    let example = DaemonProcess.example

    /// Labels a family may carry: each takes a bounded set of values (31 provinces, the outcomes,
    /// the configured alert targets and partitions); never a meter or a key.
    static let boundedLabels: Set<String> = ["outcome", "kind", "province", "stat", "state", "target", "partition", "le"]

    struct Family { var type: String; var help: Bool; var labels: Set<String> = [] }

    /// Families of a Prometheus text, by name, with their samples' label names.
    static func families(_ text: String) -> [String: Family] {
        var out: [String: Family] = [:]
        var lastHelp: String?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 3)
            if line.hasPrefix("# HELP "), parts.count == 4 { lastHelp = String(parts[2]); continue }
            if line.hasPrefix("# TYPE "), parts.count >= 4 {
                let name = String(parts[2])
                out[name] = Family(type: String(parts[3]), help: lastHelp == name)
                continue
            }
            lastHelp = nil
            guard !line.hasPrefix("#"), let brace = line.firstIndex(of: "{") else { continue }
            var name = String(line[..<brace])
            for suffix in ["_bucket", "_sum", "_count"] where out[name] == nil && name.hasSuffix(suffix) { name.removeLast(suffix.count) }
            let inner = line[line.index(after: brace)..<(line.firstIndex(of: "}") ?? line.endIndex)]
            for pair in inner.split(separator: ",") { out[name]?.labels.insert(String(pair.split(separator: "=")[0])) }
        }
        return out
    }

    /// The value of the sample `series` (name and labels as written), if present.
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// The blocking work (process, sockets, waits) runs off Swift's concurrency pool (``offPool``),
    /// so other suites' async tasks are not starved meanwhile.
    @Test func daemonMetricsFollowConventionsAndMatchTheAPI() async throws {
        let dir = NSTemporaryDirectory() + "gridcarbon-metrics-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The example's lines and one later reading of M1 (12:30), which moves the watermark to 12:15
        // (reference §3.4) and so closes the 10:00 hour, however long the test takes to send them (the
        // idle timeout is long: a wall-clock watermark would make the example's lines late).
        let registry = example + "/registry.csv"
        let records = try Files.read(example + "/records.csv") + Array("r,M1,2026-11-18T12:30:00+08:00,1080.00\n".utf8)
        let d = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: ["--idle-timeout", "10m"]) }
        defer { d.stop() }
        let posted = try await offPool { try d.http("POST", "/v1/records", body: records) }
        #expect(posted.status == 200, "\(posted.body)")
        // Wait for the 10:00 hour to close; then the metrics and the API's answers, one after the other.
        let (aggregates, text, quarterBody, totalsBody) = try await offPool { () throws -> (String, String, String, String) in
            // Waits up to 2 minutes: a loaded machine (the whole suite at once) is slow to close them.
            var aggregates = ""
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                aggregates = try d.http("GET", "/v1/aggregates?window=1h&level=province").body
                if aggregates.contains("\"co2_kg\"") { break }
                usleep(50_000)
            }
            return (aggregates, try d.http("GET", "/metrics").body, try d.http("GET", "/v1/aggregates?window=15m&level=province&limit=1000").body,
                    try d.http("GET", "/v1/totals?level=province").body)
        }
        let families = Self.families(text)
        #expect(families.count >= 20, "\(text)")
        let docs = String(decoding: try Files.read(TestRepository.root + "/docs/metrics.md"), as: UTF8.self)
        for (name, f) in families.sorted(by: { $0.key < $1.key }) where name.hasPrefix("gridcarbon_") {
            #expect(f.help, "\(name) has no # HELP line")
            #expect(MetricsCatalog.help[name] != nil, "\(name) is not in MetricsCatalog")
            #expect(docs.contains("`\(name)`"), "\(name) is not documented in docs/metrics.md")
            #expect((f.type == "counter") == name.hasSuffix("_total"), "\(name): a \(f.type) (counters, and only they, end in _total)")
            if f.type == "histogram" { #expect(name.hasSuffix("_seconds") || name.hasSuffix("_messages"), "\(name): a histogram without its unit") }
            #expect(f.labels.isSubset(of: Self.boundedLabels), "\(name) has labels \(f.labels.subtracting(Self.boundedLabels))")
        }
        for name in MetricsCatalog.help.keys { #expect(docs.contains("`\(name)`"), "\(name) (MetricsCatalog) is not documented in docs/metrics.md") }
        // WAL fsync latency is a histogram with sub-millisecond buckets.
        #expect(families["gridcarbon_wal_fsync_seconds"]?.type == "histogram")
        #expect(text.contains("gridcarbon_wal_fsync_seconds_bucket{le=\"0.0001\"}"), "\(text)")
        // The carbon series agree with the API: the last closed hour per province, the day's
        // emissions, and the emission counters against the 15-minute windows.
        #expect(aggregates.contains("\"co2_kg\""),
                "no 1h window closed within 2 minutes: \(aggregates); POST answered \(posted.body); log: \(String(decoding: (try? Files.read(d.log)) ?? [], as: UTF8.self))")
        let hour = try #require(try JSONSerialization.jsonObject(with: Data(aggregates.utf8)) as? [String: Any])
        let last = try #require((hour["windows"] as? [[String: Any]])?.last?["rows"] as? [[String: Any]])
        #expect(!last.isEmpty)
        for row in last {
            let key = try #require(row["key"] as? String), co2 = try #require(row["co2_kg"] as? Double), kwh = try #require(row["energy_kwh"] as? Double)
            #expect(Self.close(Self.value(text, "gridcarbon_emissions_last_hour_kg{province=\"\(key)\"}"), co2), "\(key)")
            #expect(Self.close(Self.value(text, "gridcarbon_energy_last_hour_kwh{province=\"\(key)\"}"), kwh), "\(key)")
            if let intensity = row["intensity_kg_per_kwh"] as? Double {
                #expect(Self.close(Self.value(text, "gridcarbon_intensity_last_hour_kg_per_kwh{province=\"\(key)\"}"), intensity), "\(key)")
            }
        }
        let quarter = try #require(try JSONSerialization.jsonObject(with: Data(quarterBody.utf8)) as? [String: Any])
        var byProvince: [String: (co2: Double, rows: Int)] = [:]
        for w in quarter["windows"] as? [[String: Any]] ?? [] {
            for row in w["rows"] as? [[String: Any]] ?? [] {
                let key = row["key"] as? String ?? ""
                byProvince[key] = ((byProvince[key]?.co2 ?? 0) + (row["co2_kg"] as? Double ?? 0), (byProvince[key]?.rows ?? 0) + 1)
            }
        }
        #expect(!byProvince.isEmpty)
        for (key, sum) in byProvince {
            // Each window's co2 is printed rounded to 6 decimals.
            #expect(Self.close(Self.value(text, "gridcarbon_emissions_kg_total{province=\"\(key)\"}"), sum.co2, rounded: sum.rows), "\(key)")
        }
        let totals = try #require(try JSONSerialization.jsonObject(with: Data(totalsBody.utf8)) as? [String: Any])
        for row in totals["totals"] as? [[String: Any]] ?? [] {
            let key = try #require(row["key"] as? String)
            #expect(Self.close(Self.value(text, "gridcarbon_emissions_today_kg{province=\"\(key)\"}"), row["day_co2_kg"] as? Double ?? -1), "\(key)")
        }
        #expect(try await offPool { d.stop() } == 0)
    }

    /// `a` equals `b`, the sum of `rounded` numbers as the API prints them (`%.6f`, reference §1).
    static func close(_ a: Double?, _ b: Double, rounded: Int = 1) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= 5e-7 * Double(rounded) + 1e-12 * abs(b)
    }

    @Test func helpLinesAreAddedOncePerFamily() {
        let text = "# TYPE gridcarbon_records_total counter\ngridcarbon_records_total{outcome=\"accepted\"} 1\n# HELP gridcarbon_wal_bytes own\n# TYPE gridcarbon_wal_bytes gauge\ngridcarbon_wal_bytes 3\n# TYPE other gauge\nother 1\n"
        let out = String(decoding: MetricsCatalog.withHelp(Array(text.utf8)), as: UTF8.self)
        #expect(out == "# HELP gridcarbon_records_total \(MetricsCatalog.help["gridcarbon_records_total"]!)\n" + text)
    }
}
