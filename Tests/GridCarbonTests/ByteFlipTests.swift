import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// Every single byte of a checkpoint or of a write-ahead-log segment flipped (reference §6): refused
/// with a clear error or repaired, never a crash, never different aggregates.
@Suite struct ByteFlipTests {
    static let lines = [
        "f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:20:00+08:00,0.52",
        "r,A,2026-11-18T10:00:00+08:00,1000.00",
        "r,B,2026-11-18T10:00:00+08:00,500.00",
        "i,T,2026-11-18T10:00:00+08:00,2026-11-18T10:30:00+08:00,3.0",
        "r,A,2026-11-18T10:15:00+08:00,1012.50",
        "r,C,2026-11-18T10:30:00+08:00,20.00",
        "r,A,2026-11-18T10:30:00+08:00,1025.00",
    ]

    /// An engine checkpoint with any byte flipped does not restore: the CRC-32 over header and
    /// payload (or the magic, version, flags, length and reserved checks before it) refuses it, and
    /// the engine stays fresh, so the good checkpoint still restores into it afterwards.
    @Test func engineCheckpoint() throws {
        let good = Harness().feed(Self.lines, finish: false).engine.checkpoint()
        let target = Harness()
        var refused = 0
        for i in 0..<good.count {
            var bad = good
            bad[i] ^= 0xFF
            do {
                try target.engine.restore(from: bad)
                Issue.record("byte \(i) of \(good.count) flipped: restored")
                return
            } catch let e as CheckpointError {
                #expect(!"\(e)".isEmpty)
                refused += 1
            }
        }
        #expect(refused == good.count)
        try target.engine.restore(from: good)
        #expect(target.engine.checkpoint() == good)
    }

    /// Log segments written by the real log into files: a flipped byte in the last segment cuts the
    /// log at the damaged entry (what follows was never acknowledged as durable after it); one in
    /// an earlier segment stops recovery with `CorruptSegment`. Whatever is handed back is a prefix
    /// of what was written, byte for byte.
    @Test func walSegments() throws {
        let dir = try TempDir("byteflip-wal")
        let storage = try FileLogStorage(directory: dir.path)
        let log = try WriteAheadLog(storage: storage, segmentBytes: 200, policy: .everyBatch, endLSN: 0)
        var written: [[UInt8]] = []
        for (k, line) in Self.lines.enumerated() {
            let payload = Array("\(k):\(line)\n".utf8)
            try log.append(payload)
            written.append(payload)
        }
        try log.syncNow()
        let segments = try storage.segments()
        try #require(segments.count >= 2, "the test needs more than one segment")
        let files = try segments.map { try storage.read($0) }
        let onDisk: Int = files.map(\.count).reduce(0, +)
        let framed: Int = written.map { $0.count + 8 }.reduce(0, +)
        #expect(onDisk == framed)
        var cut = 0, refused = 0

        for (si, seg) in segments.enumerated() {
            let last = si == segments.count - 1
            for i in 0..<files[si].count {
                let copy = try TempDir("byteflip-wal-case")
                for (sj, other) in segments.enumerated() {
                    var bytes = files[sj]
                    if sj == si { bytes[i] ^= 0xFF }
                    try Files.writeAtomically("\(copy.path)/\(FileLogStorage.names.name(other))", bytes, sync: false)
                }
                let damaged = try FileLogStorage(directory: copy.path)
                var got: [[UInt8]] = []
                do {
                    _ = try WriteAheadLog.recover(storage: damaged) { _, p in got.append(Array(p)) }
                    #expect(last, "segment \(si) byte \(i): damage before the last segment was not reported")
                    // The damaged entry and everything after it are cut; nothing else changes.
                    #expect(got.count < written.count, "segment \(seg) byte \(i): a flipped entry was delivered")
                    #expect(Array(written.prefix(got.count)) == got, "segment \(seg) byte \(i): entries differ")
                    #expect(damaged.size(seg) < Int64(files[si].count), "segment \(seg) byte \(i): not cut")
                    cut += 1
                } catch let e as WriteAheadLog.CorruptSegment {
                    #expect(!last, "segment \(si) byte \(i): the last segment is repaired, not refused")
                    #expect(e.segment == seg)
                    #expect(Array(written.prefix(got.count)) == got)
                    refused += 1
                }
            }
        }
        let lastBytes: Int = files.last!.count
        let earlierBytes: Int = files.dropLast().map(\.count).reduce(0, +)
        #expect(cut == lastBytes)
        #expect(refused == earlierBytes)
    }
}
