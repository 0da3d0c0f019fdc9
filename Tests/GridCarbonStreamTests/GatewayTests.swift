import Foundation
import GridCarbonIO
import GridCarbonModel
import Testing
@testable import GridCarbonStream

/// `gridcarbon serve --nats URL` as a gateway (the binary) in front of a real single-node
/// JetStream: what it takes over TCP and HTTP is in the stream, routed and in order, before it
/// says ok; when the stream cannot store it, the client gets an error, never an ok.
@Suite struct GatewayTests {
    @Test func forwardsTCPAndHTTPLinesToTheirSubjectsInOrder() throws {
        let dir = temporaryDirectory("gateway")
        let server = try NATSServerProcess(directory: dir + "/nats")
        defer { server.kill() }
        try createStream(server.url, partitions: 4, dir: dir)
        let gateway = try GatewayProcess(nats: server.url, data: dir + "/gw")
        defer { gateway.kill(SIGKILL) }

        // The publish test's input over TCP: 12 lines routed, 4 rejected (blank and # skipped).
        let c = try gateway.client()
        try c.send(PublishCommandTests.input + "\n!sync\n")
        #expect(try c.readLine() == "ok 12 4")
        // Then many small writes, each followed by !sync: one meter per partition pair, in order.
        var more: [String: [String]] = [:]
        for chunk in 0..<20 {
            var text = ""
            for k in 0..<50 {
                let n = chunk * 50 + k
                let meter = n % 2 == 0 ? "M1" : "M2"
                let line = "r,\(meter),\(1_763_431_200 + 60 * (n / 2)),\(1000 + n)"
                text += line + "\n"
                more[meter == "M1" ? "gridcarbon.meter.3" : "gridcarbon.meter.2", default: []].append(line)
            }
            try c.send(text + "!sync\n")
            #expect(try c.readLine() == "ok 50 0")
        }
        // HTTP: answered with the counts once stored.
        let post = try gateway.http("POST", "/v1/records", body: Array("r,M1,2026-11-18T11:00:00+08:00,5000\nr,bad id!,2026-11-18T11:00:00+08:00,1\n".utf8))
        #expect(post.status == 200, "\(post.body)")
        #expect(post.body.contains("\"accepted\":1,"), "\(post.body)")
        #expect(post.body.contains("\"rejected\":1,"), "\(post.body)")
        #expect(post.body.contains("\"reason\":\"bad_meter_id\""), "\(post.body)")

        let js = try JetStream(try NATSConnection(urls: server.url))
        var expected = PublishCommandTests.expected()
        for (subject, lines) in more { expected[subject, default: []] += lines }
        expected["gridcarbon.meter.3", default: []].append("r,M1,2026-11-18T11:00:00+08:00,5000")
        for subject in StreamLayout().subjects(partitions: 4) {
            let stored = try readBack(js, subject: subject)
            #expect(stored.map(\.line) == expected[subject] ?? [], "\(subject)")
            #expect(stored.map(\.sequence) == stored.map(\.sequence).sorted(), "\(subject)")
        }

        // Rejected lines with publish's (and replay's) reasons, in DATA/rejected/.
        let files = try Files.list(dir + "/gw/rejected")
        #expect(files.count == 1)
        let rejected = String(decoding: try Zstd.decompress(try Files.read(dir + "/gw/rejected/" + files[0])), as: UTF8.self)
        let reasons = rejected.split(separator: "\n").map { line -> String in
            String(line.components(separatedBy: "\"reason\":\"")[1].prefix { $0 != "\"" })
        }
        #expect(reasons == ["bad_kind", "bad_region", "bad_meter_id", "bad_field_count", "bad_meter_id"])
        #expect(rejected.contains("\"line\":\"z,not,a,kind\""))
        #expect(rejected.contains("\"source\":\"tcp:127.0.0.1:"))
        #expect(rejected.contains("\"source\":\"http:2\""))

        // Metrics, and the reads of an engine are not a gateway's.
        let metrics = try gateway.http("GET", "/metrics")
        #expect(metrics.body.contains("gridcarbon_gateway_lines_total{outcome=\"forwarded\"} 1013"), "\(metrics.body)")
        #expect(metrics.body.contains("gridcarbon_gateway_lines_total{outcome=\"rejected\"} 5"), "\(metrics.body)")
        #expect(metrics.body.contains("gridcarbon_gateway_publish_failures_total 0"), "\(metrics.body)")
        // Every family has its # HELP line right before # TYPE (docs/metrics.md).
        let exposition = metrics.body.split(separator: "\n").map(String.init)
        let types = exposition.indices.filter { exposition[$0].hasPrefix("# TYPE gridcarbon_") }
        #expect(types.count == 5, "\(metrics.body)")
        for i in types {
            let name = exposition[i].split(separator: " ")[2]
            #expect(i > 0 && exposition[i - 1].hasPrefix("# HELP \(name) "), "\(metrics.body)")
        }
        #expect(try gateway.http("GET", "/healthz").status == 200)
        #expect(try gateway.http("GET", "/v1/aggregates").status == 404)

        // SIGTERM: a clean stop.
        gateway.kill(SIGTERM)
        #expect(gateway.process.terminationStatus == 0, "\(gateway.logText())")
    }

    /// The nats-server is killed before the lines are sent: no ok while it is down; once it is back
    /// the lines are stored and only then the ok comes.
    @Test func syncIsAnsweredOnlyOnceTheStreamStoredTheLines() throws {
        let dir = temporaryDirectory("gateway-down")
        var server = try NATSServerProcess(directory: dir + "/nats")
        defer { server.kill() }
        try createStream(server.url, partitions: 2, dir: dir)
        let gateway = try GatewayProcess(nats: server.url, data: dir + "/gw", extra: ["--publish-timeout", "60s"])
        defer { gateway.kill(SIGKILL) }
        let c = try gateway.client(timeout: 3)
        try c.send("r,M1,1763431200,1\n!sync\n")
        #expect(try c.readLine() == "ok 1 0")

        server.kill()
        let lines = (0..<100).map { "r,M1,\(1_763_431_260 + 60 * $0),\(2 + $0)" }
        try c.send(lines.joined(separator: "\n") + "\n!sync\n")
        // Nothing may come while the server is down.
        #expect(throws: LineClientError.self) { _ = try c.readLine() }
        server = try NATSServerProcess(directory: dir + "/nats", port: server.port)
        setReceiveTimeout(c, seconds: 60)
        #expect(try c.readLine() == "ok 100 0")

        let js = try JetStream(try NATSConnection(urls: server.url))
        let subject = "gridcarbon.meter.\(Partitioning.partition(meterID: "M1", count: 2))"
        #expect(try readBack(js, subject: subject).map(\.line) == ["r,M1,1763431200,1"] + lines)
    }

    /// The nats-server stays down: TCP gets an error line (and the connection closes), HTTP a 503;
    /// a batch queued behind a failed one of the same connection is refused without a try (one
    /// publish failure, not two); once the server is back, the gateway forwards again.
    @Test func linesTheStreamDoesNotStoreGetAnErrorNeverAnOK() throws {
        let dir = temporaryDirectory("gateway-fail")
        var server = try NATSServerProcess(directory: dir + "/nats")
        defer { server.kill() }
        try createStream(server.url, partitions: 2, dir: dir)
        let gateway = try GatewayProcess(nats: server.url, data: dir + "/gw", extra: ["--publish-timeout", "2s"])
        defer { gateway.kill(SIGKILL) }
        server.kill()

        let c = try gateway.client(timeout: 60)
        try c.send("r,M1,1763431200,1\n!sync\n")
        // A second batch while the first one waits: refused after the first fails, not tried.
        usleep(500_000)
        try c.send("r,M1,1763431260,2\nr,M1,1763431320,3\nr,M1,1763431380,4\n!sync\n")
        let answer = try c.readLine()
        #expect(answer.hasPrefix("error not stored in the stream"), "\(answer)")
        #expect(answer.contains("send the lines after the last ok again"), "\(answer)")
        #expect(throws: LineClientError.self) { _ = try c.readLine() }

        let post = try gateway.http("POST", "/v1/records", body: Array("r,M2,1763431200,1\n".utf8))
        #expect(post.status == 503, "\(post.body)")
        #expect(post.body.contains("\"error\":\"not_stored\""), "\(post.body)")
        #expect(try gateway.http("GET", "/readyz").status == 503, "not ready while the stream's servers are unreachable")
        let metrics = try gateway.http("GET", "/metrics")
        #expect(metrics.body.contains("gridcarbon_gateway_publish_failures_total 2"), "\(metrics.body)")
        #expect(metrics.body.contains("gridcarbon_gateway_lines_total{outcome=\"failed\"} 5"), "\(metrics.body)")

        server = try NATSServerProcess(directory: dir + "/nats", port: server.port)
        let again = try gateway.client(timeout: 60)
        try again.send("r,M1,1763431200,1\n!sync\n")
        #expect(try again.readLine() == "ok 1 0")
        var ready = 0
        for _ in 0..<100 where ready != 200 {
            ready = try gateway.http("GET", "/readyz").status
            usleep(50_000)
        }
        #expect(ready == 200)
    }
}
