import Foundation
import GridCarbonModel
import Testing
@testable import GridCarbonIO
@testable import GridCarbonServer

/// Resuming from a `seq` reads what it returns, not the log before it: a log of many events, read
/// from points spread over it, gives each batch complete and in order. With
/// `GRIDCARBON_ALERT_LOG_EVENTS=1000000` it builds a log of that many events and prints how long a
/// resume takes (the figure reported for the alert log index; no timing is asserted).
@Suite struct AlertLogResumeCostTests {
    @Test func resumeFromASeqAnywhereInALargeLog() throws {
        let count = Int64(ProcessInfo.processInfo.environment["GRIDCARBON_ALERT_LOG_EVENTS"].flatMap { Int64($0) } ?? 20_000)
        let dir = AlertFixtures.scratch("resume-cost")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try AlertLog(directory: dir, zone: .shanghai)
        let perFrame: Int64 = 100
        var seq: Int64 = 0
        let built = ContinuousClock.now
        while seq < count {
            let n = min(perFrame, count - seq)
            try log.append((1...n).map { AlertFixtures.event(seq + $0, key: "K\((seq + $0) % 31)") }, sync: false)
            seq += n
        }
        let buildTime = ContinuousClock.now - built
        let bytes = try FileManager.default.contentsOfDirectory(atPath: dir)
            .reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + $1)[.size] as? Int64) ?? 0) }
        for after in [0, count / 2, count - 5000, count - 10] where after >= 0 {
            // The best of three (the first run also pays for cold caches).
            var batch: [AlertLogEntry] = []
            var took = Duration.seconds(1_000_000)
            for _ in 0..<3 {
                let started = ContinuousClock.now
                batch = try AlertLog.read(directory: dir, after: after, limit: 4096)
                took = min(took, ContinuousClock.now - started)
            }
            let expected = Int(min(4096, count - after))
            #expect(batch.count == expected)
            #expect(batch.map(\.seq) == Array((after + 1)...(after + Int64(expected))))
            print("alert log resume: \(count) events, \(bytes) bytes on disk (built in \(buildTime)); after \(after), \(batch.count) events in \(took)")
        }
        // A start: the first one without a snapshot reads the whole log once (a log written
        // before snapshots existed); the next ones read the snapshot and what the ring holds.
        for run in ["without snapshot", "with snapshot"] {
            let started = ContinuousClock.now
            let hub = try AlertHub(directory: dir, zone: .shanghai, logger: AlertFixtures.logger)
            let took = ContinuousClock.now - started
            #expect(hub.lastSeq == count)
            #expect(Set(hub.activeAlerts().alerts.map(\.record.key)).count == min(31, Int(count)))
            #expect(try hub.entries(after: count - 3).map(\.seq) == [count - 2, count - 1, count])
            print("alert hub start \(run): \(count) events in the log, \(took)")
        }
    }
}
