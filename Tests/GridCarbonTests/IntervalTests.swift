import Testing
@testable import GridCarbonEngine
import GridCarbonIO
@testable import GridCarbonModel

/// Reference §3.1: `i` resends and overlaps, pending or already attributed, and across checkpoints.
@Suite struct IntervalTests {
    let d = "2026-11-18T"
    func i(_ meter: String, _ a: String, _ b: String, _ kwh: String) -> String { "i,\(meter),\(d)\(a):00+08:00,\(d)\(b):00+08:00,\(kwh)" }
    func energy(_ h: Harness, _ start: String, _ len: String = "15m") -> Double? {
        h.row(len, "\(d)\(start):00+08:00", .national, "CN")?.energy
    }

    @Test func overlapsOfPendingIntervalsAreRejected() {
        let h = Harness().feed([
            i("B", "10:00", "10:30", "6"),   // watermark 10:15
            i("B", "10:15", "10:45", "1"),   // partly overlapping
            i("B", "10:20", "10:25", "1"),   // inside
            i("B", "09:45", "11:00", "1"),   // around
            i("B", "10:00", "10:20", "1"),   // same start, other end
            i("B", "10:00", "10:30", "6"),   // exact repeat
            i("B", "10:00", "10:30", "7"),   // resend with another value
            i("B", "10:30", "10:45", "3"),   // adjacent: fine
            i("A", "10:30", "10:45", "2"),   // another meter: fine
        ])
        #expect(h.sink.rejected.map(\.0) == [.overlappingInterval, .overlappingInterval, .overlappingInterval, .overlappingInterval, .conflictingDuplicate])
        #expect(h.sink.rejected.map(\.2.line) == [2, 3, 4, 5, 7])
        #expect(h.engine.counts.accepted == 3 && h.engine.counts.duplicate == 1 && h.engine.counts.rejected == 5)
        #expect(energy(h, "10:00", "1h") == 11)
    }

    /// An interval already attributed (behind the watermark) still counts: one that ends after the
    /// watermark and starts before its end overlaps it.
    @Test func overlapsOfAttributedIntervalsAreRejected() {
        let h = Harness().feed([
            i("B", "10:00", "10:15", "4"),
            "r,B,\(d)11:00:00+08:00,0",      // watermark 10:45: the interval is attributed
            i("B", "10:10", "11:00", "5"),   // ends after the watermark, overlaps 10:00-10:15
            i("B", "10:15", "11:00", "5"),   // starts where it ended: fine
            i("B", "10:00", "10:15", "9"),   // behind the watermark: late, whatever it holds
        ])
        #expect(h.sink.rejected.map(\.0) == [.overlappingInterval])
        #expect(h.engine.counts.late == 1)
        #expect(approx(energy(h, "10:00", "1h") ?? 0, 9))
    }

    @Test func aLowerValueAtTheSameTimeIsAConflictingDuplicateToo() {
        let h = Harness().feed(["r,B,\(d)10:00:00+08:00,1", "r,B,\(d)10:15:00+08:00,9", "r,B,\(d)10:15:00+08:00,2"])
        #expect(h.sink.rejected.map(\.0) == [.conflictingDuplicate])
        #expect(energy(h, "10:00") == 8)
    }

    /// The ends of attributed intervals survive a checkpoint (version 3); a version 2 checkpoint
    /// (without them) is still read.
    @Test func checkpointsCarryTheIntervalEnds() throws {
        let first = [i("B", "10:00", "10:15", "4"), "r,B,\(d)11:00:00+08:00,0"]
        let overlapping = i("B", "10:10", "11:00", "5")
        let h = Harness().feed(first, finish: false)
        let bytes = h.engine.checkpoint()
        #expect(bytes[8] == 4)

        let resumed = Harness()
        try resumed.engine.restore(from: bytes)
        resumed.feed([overlapping])
        #expect(resumed.sink.rejected.map(\.0) == [.overlappingInterval])

        // The same state as version 2 wrote it: no interval ends in `BASE`.
        let old = Self.asVersion2(bytes, meters: h.engine.meterCount)
        let fromOld = Harness()
        try fromOld.engine.restore(from: old)
        #expect(fromOld.engine.counts.accepted == 2 && fromOld.engine.watermark == h.engine.watermark)
        fromOld.feed([i("B", "10:15", "11:00", "5")])
        #expect(fromOld.sink.rejected.isEmpty)
        // The current version written again after reading version 2: the ends start unknown.
        #expect(fromOld.engine.checkpoint()[8] == 4)
    }

    /// `bytes` (version 4, no §9.1 records) rewritten as version 2: the `DUAL` section and the
    /// interval ends removed, length and CRC redone.
    static func asVersion2(_ bytes: [UInt8], meters: Int) -> [UInt8] {
        let bytes = DualRecordTests.withoutDual(bytes)
        let tag = Array("BASE".utf8) + [0, 0, 0, 0]
        var at = EngineCheckpointFormat.headerSize
        while !bytes[at..<(at + 8)].elementsEqual(tag) { at += 1 }
        let ends = at + 8 + 8 + 16 * meters
        var b = Array(bytes[..<ends]) + Array(bytes[(ends + 8 * meters)...])
        b[8] = 2
        let payload = UInt64(b.count - EngineCheckpointFormat.headerSize)
        withUnsafeBytes(of: payload.littleEndian) { for k in 0..<8 { b[16 + k] = $0[k] } }
        return CheckpointTests.resealed(b)
    }
}
