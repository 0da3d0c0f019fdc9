import Dispatch
import Foundation
import Testing
@testable import GridCarbonIO

/// Durability callbacks run in log order (reference §6: a `!sync` is answered once every line
/// before it is durable): an entry found durable already while the callbacks of earlier entries
/// are being delivered waits for them instead of overtaking them.
@Suite struct WriteAheadLogOrderTests {
    final class Order: @unchecked Sendable {
        private let lock = NSLock()
        private var seen: [String] = []
        func add(_ s: String) { lock.lock(); seen.append(s); lock.unlock() }
        var value: [String] { lock.lock(); defer { lock.unlock() }; return seen }
    }

    @Test func aDurableEntryDoesNotOvertakeEarlierCallbacks() throws {
        let dir = NSTemporaryDirectory() + "gridcarbon-walorder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wal = try WriteAheadLog(storage: try FileLogStorage(directory: dir), policy: .everyBatch, endLSN: 0)
        let order = Order()
        let inSync = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        // The sync thread stops after it has moved the durable point, before it calls anyone back.
        wal.onSync = { _, _ in inSync.signal(); release.wait() }
        let a = try wal.append(Array("a".utf8))
        let b = try wal.append(Array("b".utf8))
        wal.whenDurable(a) { _ in order.add("a") }
        inSync.wait()
        // B is durable now (the sync covered it), but A's callback has not run yet.
        wal.whenDurable(b) { _ in order.add("b") }
        release.signal()
        for _ in 0..<500 where order.value.count < 2 { usleep(10_000) }
        #expect(order.value == ["a", "b"])
    }
}
