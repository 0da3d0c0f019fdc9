import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO

/// On the real `gridcarbon serve` binary: `alerts.max_sse_subscribers` caps the Server-Sent Events
/// streams open at once (503 `too_many_subscribers` with `Retry-After: 5` beyond it), a bad
/// alert log setting stops the start with exit 2, and a torn alert log tail is repaired at start.
@Suite(.serialized)
struct AlertStreamCapDaemonTests {
    @Test func theStreamBeyondTheCapIsRefused() async throws {
        let dir = AlertFixtures.scratch("cap-daemon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = #"{"alerts": {"max_sse_subscribers": 2, "keep_alive": "300ms", "log_segment_bytes": 65536, "log_max_age": "7d", "log_max_bytes": "off"}}"#
        try Files.writeAtomically(dir + "/config.json", Array(config.utf8), sync: false)
        let registry = DaemonProcess.example + "/registry.csv"
        let d = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: ["--config", dir + "/config.json"]) }
        defer { d.stop() }
        let url = "http://127.0.0.1:\(d.httpPort)/v1/alerts/stream"
        let a = SSEClient(url: url), b = SSEClient(url: url)
        #expect(await AlertFixtures.eventually { a.status == 200 && b.status == 200 })
        let refused = try await AlertStreamCap.get(url)
        #expect(refused.status == 503 && refused.retryAfter == "5" && refused.contentType == "application/json")
        #expect(refused.body.hasPrefix("{\"error\":\"too_many_subscribers\",\"message\":\"2 alert streams are open"), "\(refused.body)")
        // Other endpoints are not affected.
        #expect(try await httpGet("http://127.0.0.1:\(d.httpPort)/v1/alerts").status == 200)
        // A client that leaves gives its place back.
        await a.close()
        #expect(await AlertFixtures.eventually { (try? await AlertStreamCap.get(url, streamed: true).status) == 200 })
        #expect(try await offPool { d.stop() } == 0)
        _ = await b.task.result
    }

    @Test func badAlertLogSettingsExit2() throws {
        let dir = AlertFixtures.scratch("cap-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (config, message) in [(#"{"alerts": {"max_sse_subscribers": 0}}"#, "alerts.max_sse_subscribers '0' must be a whole number from 1"),
                                  (#"{"alerts": {"log_segment_bytes": "big"}}"#, "alerts.log_segment_bytes 'big' must be a whole number"),
                                  (#"{"alerts": {"log_max_age": "soon"}}"#, "alerts.log_max_age 'soon' is not a duration"),
                                  (#"{"alerts": {"log_max_bytes": 5000}}"#, "alerts.log_max_bytes must be at least alerts.log_segment_bytes")] {
            try Files.writeAtomically(dir + "/config.json", Array(config.utf8), sync: false)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
            p.arguments = ["serve", "--config", dir + "/config.json", "--data", dir + "/data",
                           "--tcp", "127.0.0.1:\(DaemonProcess.freePort())", "--http", "127.0.0.1:\(DaemonProcess.freePort())"]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 2, "\(config): \(text)")
            #expect(text.contains(message), "\(config): \(text)")
        }
    }

    @Test func aTornAlertLogTailIsRepairedAtStart() async throws {
        let dir = AlertFixtures.scratch("torn-daemon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = #"{"alerts": {"rules": [{"name": "gd-hot", "kind": "intensity", "level": "province", "window": "15m", "threshold": 0.4}]}}"#
        try Files.writeAtomically(dir + "/config.json", Array(config.utf8), sync: false)
        let registry = DaemonProcess.example + "/registry.csv"
        let extra = ["--config", dir + "/config.json", "--idle-timeout", "1h"]
        let d = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: extra) }
        defer { d.stop() }
        let tcpPort = d.tcpPort
        let ack = try await offPool {
            let tcp = try LineClient(port: tcpPort)
            try tcp.send("i,M2,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,10\ni,M2,2026-11-18T11:30:00+08:00,2026-11-18T11:45:00+08:00,10\n!sync\n")
            return try tcp.readLine()
        }
        #expect(ack == "ok 2 0")
        let alerts = dir + "/serve/alerts"
        #expect(await AlertFixtures.eventually { (try? AlertLog.read(directory: alerts).map(\.seq)) == [1] })
        try await offPool { d.crash() }
        // A crash in the middle of the next append: half a frame at the end of the segment, and
        // its index record written ahead of it.
        let segment = alerts + "/" + (try #require(try AlertLog.files(alerts).last)).name
        let size = try #require(Files.size(segment))
        let frame = try Zstd.compress(Array(#"{"seq":2,"id":"x"}\n"#.utf8))
        var bytes = try Files.read(segment)
        bytes += frame.prefix(frame.count - 3)
        try Files.writeAtomically(segment, bytes, sync: false)
        let index = (try Files.read(AlertLogIndex.path(of: segment))) + AlertLogIndex.encode(.init(firstSeq: 2, offset: size))
        try Files.writeAtomically(AlertLogIndex.path(of: segment), index, sync: false)

        let again = try await offPool { try DaemonProcess(data: dir + "/serve", registry: registry, extra: extra) }
        defer { again.stop() }
        #expect(Files.size(segment) == size)
        #expect(AlertLogIndex.records(segment: segment)?.map(\.firstSeq) == [1])
        let listed = try await httpGet("http://127.0.0.1:\(again.httpPort)/v1/alerts").body
        #expect(listed.hasSuffix(",\"seq\":1}\n") && listed.contains("\"id\":\"gd-hot/province/CN-GD/15m\""), "\(listed)")
        let stream = SSEClient(url: "http://127.0.0.1:\(again.httpPort)/v1/alerts/stream", lastEventID: 0)
        #expect(await AlertFixtures.eventually { !stream.events.isEmpty })
        try await Task.sleep(for: .milliseconds(500))
        #expect(stream.events.map(\.id) == [1])
        #expect(try await offPool { again.stop() } == 0)
        await stream.close()
    }
}
