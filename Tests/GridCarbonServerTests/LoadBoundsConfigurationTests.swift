import Foundation
import Testing
import GridCarbonTestKit
@testable import GridCarbonIO
import GridCarbonModel
@testable import GridCarbonServer

/// `max_http_requests`, `engine_queue_bytes` and `http_idle_timeout` (reference §6): documented
/// defaults are the struct's, values are checked, a bad one stops the daemon with exit 2; and the
/// engine queue gate parks producers at its bound and wakes them below it.
@Suite struct LoadBoundsConfigurationTests {
    @Test func defaultsAndValues() throws {
        let d = LoadBounds()
        #expect(ConfigKey.maxHTTPRequests.defaultValue == String(d.maxHTTPRequests))
        #expect(ConfigKey.engineQueueBytes.defaultValue == String(d.engineQueueBytes))
        #expect(DurationFormat.parse(ConfigKey.httpIdleTimeout.defaultValue ?? "") == d.httpIdleTimeout)
        #expect(try ServeConfiguration(file: .empty).load == d)
        let f = try ConfigFile(text: #"{"max_http_requests": "3", "engine_queue_bytes": "65536", "http_idle_timeout": "500ms"}"#, path: "c.json")
        let c = try ServeConfiguration(file: f).load
        #expect(c.maxHTTPRequests == 3 && c.engineQueueBytes == 65536 && c.httpIdleTimeout == 500_000)
        // JSON numbers are read too, not silently dropped.
        let n = try ServeConfiguration(file: try ConfigFile(text: #"{"max_http_requests": 8, "engine_queue_bytes": 1048576}"#, path: "c.json")).load
        #expect(n.maxHTTPRequests == 8 && n.engineQueueBytes == 1_048_576)
        for bad in [#"{"max_http_requests": "lots"}"#, #"{"max_http_requests": "0"}"#, #"{"engine_queue_bytes": "100"}"#,
                    #"{"engine_queue_bytes": "1e9"}"#, #"{"http_idle_timeout": "soon"}"#, #"{"http_idle_timeout": "1ms"}"#,
                    #"{"max_http_requests": 0}"#, #"{"max_http_requests": true}"#, #"{"engine_queue_bytes": [1]}"#] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try ServeConfiguration(file: try ConfigFile(text: bad, path: "c.json")) }
        }
    }

    @Test func aBadBoundStopsTheDaemonWithExit2() throws {
        let dir = NSTemporaryDirectory() + "gridcarbon-bounds-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(dir + "/config.json", Array(#"{"max_http_requests": "lots"}"#.utf8), sync: false)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try TestRepository.requireBinary())
        p.arguments = ["serve", "--config", dir + "/config.json", "--data", dir + "/data", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 2, "\(text)")
        #expect(text.contains("max_http_requests"), "\(text)")
    }

    @Test func theGateParksAtTheBoundAndWakesBelowIt() async throws {
        let gate = EngineQueueGate(limit: 100)
        #expect(!gate.parkIfFull { Issue.record("woken with room") })
        gate.added(60)
        #expect(!gate.parkIfFull { Issue.record("woken with room") })
        gate.added(60)
        let woken = NIOLockedCounter()
        #expect(gate.parkIfFull { woken.add() })
        #expect(gate.parkIfFull { woken.add() })
        gate.removed(10)
        #expect(woken.value == 0, "still at 110 bytes")
        gate.removed(60)
        #expect(woken.value == 2 && gate.queuedBytes == 50)
        // An async producer waits the same way.
        gate.added(100)
        let waiter = Task { await gate.waitForRoom(); return gate.queuedBytes }
        gate.removed(100)
        #expect(await waiter.value < 100)
    }
}

/// A counter for callbacks from any thread.
final class NIOLockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
