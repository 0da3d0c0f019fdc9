#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GridCarbonModel
import Testing
@testable import GridCarbonIO

/// The alert log's segments, their indexes, the repair of a torn last frame and retention, on
/// real files.
@Suite struct AlertLogIndexTests {
    /// Appends events `range` one frame of `perFrame` at a time.
    func fill(_ log: AlertLog, _ range: ClosedRange<Int64>, perFrame: Int64 = 3) throws {
        var s = range.lowerBound
        while s <= range.upperBound {
            let e = min(range.upperBound, s + perFrame - 1)
            try log.append((s...e).map { AlertFixtures.event($0, key: "K\($0 % 5)") }, sync: false)
            s = e + 1
        }
    }

    func segments(_ dir: String) throws -> [String] { try AlertLog.files(dir).map { dir + "/" + $0.name } }

    @Test func readsFromAnySeqThroughTheIndex() throws {
        let dir = AlertFixtures.scratch("index")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try AlertLog(directory: dir, zone: .shanghai, retention: AlertLogRetention(segmentBytes: 4096, maxAge: nil, maxBytes: nil))
        try fill(log, 1...400)
        let files = try segments(dir)
        let firsts = try AlertLog.files(dir).map(\.firstSeq)
        #expect(files.count > 5, "\(files)")
        for f in files { #expect(Files.exists(AlertLogIndex.path(of: f))) }
        // Index records: one per frame, first seq and offset of each.
        let records = try #require(AlertLogIndex.records(segment: files[1]))
        #expect(records.first?.offset == 0 && records.first?.firstSeq == firsts[1])
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.firstSeq + 3 == $1.firstSeq && $0.offset < $1.offset })
        for after in [Int64(0), 1, 2, 3, 57, 199, 200, 201, 390, 399] {
            let got = try AlertLog.read(directory: dir, after: after, limit: 25)
            #expect(got.map(\.seq) == Array((after + 1)...min(400, after + 25)), "after \(after)")
        }
        #expect(try AlertLog.read(directory: dir, after: 400).isEmpty)
        #expect(try AlertLog.read(directory: dir).map(\.seq) == Array(1...400))
        let line = try AlertLog.read(directory: dir, after: 122, limit: 1)[0].line
        #expect(line == AlertFixtures.event(123, key: "K3").json(zone: .shanghai))

        // A missing index is rebuilt from the frames, a wrong one is not trusted.
        unlink(AlertLogIndex.path(of: files[2]))
        try Files.writeAtomically(AlertLogIndex.path(of: files[3]), AlertLogIndex.encode(.init(firstSeq: 5, offset: 77)), sync: false)
        for after in [firsts[2] + 4, firsts[3] + 4] {
            #expect(try AlertLog.read(directory: dir, after: after, limit: 10).map(\.seq) == Array((after + 1)...(after + 10)))
        }
        #expect(AlertLogIndex.records(segment: files[2]) == (try AlertLogIndex.rebuild(segment: files[2], write: false)))
        #expect(AlertLogIndex.records(segment: files[3])?.count ?? 0 > 1)
    }

    @Test func aTornLastFrameIsCutOffAtStart() throws {
        let dir = AlertFixtures.scratch("torn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            let log = try AlertLog(directory: dir, zone: .shanghai, retention: AlertLogRetention(segmentBytes: 4096, maxAge: nil, maxBytes: nil))
            try fill(log, 1...60)
            #expect(log.lastSeq == 60)
        }
        // A crash mid-append: half of the next frame reached the newest segment, its index
        // record too; and a crash between a frame and its index record (the record is missing).
        let newest = try #require(try segments(dir).last)
        let size = try #require(Files.size(newest))
        let frame = try Zstd.compress(AlertFixtures.event(61).json(zone: .shanghai))
        var records = try #require(AlertLogIndex.records(segment: newest))
        let dropped = records.removeLast()
        var idx: [UInt8] = []
        for r in records { idx += AlertLogIndex.encode(r) }
        idx += AlertLogIndex.encode(.init(firstSeq: 61, offset: size))
        try Files.writeAtomically(AlertLogIndex.path(of: newest), idx, sync: false)
        let fd = open(newest, O_WRONLY | O_APPEND)
        _ = Array(frame.prefix(frame.count / 2)).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        // And an empty segment made just before a crash.
        try Files.writeAtomically(dir + "/" + AlertLog.fileName(61), [], sync: false)

        let log = try AlertLog(directory: dir, zone: .shanghai, retention: AlertLogRetention(segmentBytes: 4096, maxAge: nil, maxBytes: nil))
        #expect(log.lastSeq == 60)
        #expect(Files.size(newest) == size)
        #expect(!Files.exists(dir + "/" + AlertLog.fileName(61)))
        #expect(AlertLogIndex.records(segment: newest)?.last == dropped)
        try fill(log, 61...70)
        #expect(try AlertLog.read(directory: dir).map(\.seq) == Array(1...70))
        #expect(try AlertLog.read(directory: dir, after: 58, limit: 4).map(\.seq) == [59, 60, 61, 62])
    }

    @Test func aDamagedFrameInsideASegmentIsAnErrorNotASilentEnd() throws {
        let dir = AlertFixtures.scratch("damaged")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try AlertLog(directory: dir, zone: .shanghai, retention: AlertLogRetention(segmentBytes: 1 << 20, maxAge: nil, maxBytes: nil))
        try fill(log, 1...30)
        let path = try #require(try segments(dir).first)
        let records = try #require(AlertLogIndex.records(segment: path))
        #expect(records.count == 10)
        // The magic number of the fifth frame (events 13-15) damaged, as a bad disk block would.
        var bytes = try Files.read(path)
        bytes[Int(records[4].offset)] ^= 0xFF
        try Files.writeAtomically(path, bytes, sync: false)
        // Reading up to it still works; reading across it says where the damage is.
        #expect(try AlertLog.read(directory: dir, after: 0, limit: 12).map(\.seq) == Array(1...12))
        do {
            let got = try AlertLog.read(directory: dir, after: 0)
            Issue.record("read past a damaged frame without an error: \(got.count) events")
        } catch let e as IOError {
            #expect(e.code == .malformed && "\(e)".contains("damaged alert log frame at byte \(records[4].offset)"), "\(e)")
        }
    }

    @Test func retentionRemovesOldSegmentsBySizeAndAge() throws {
        let dir = AlertFixtures.scratch("retention")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // By size: at most ~3 segments of 4 KiB.
        let bySize = AlertLogRetention(segmentBytes: 4096, maxAge: nil, maxBytes: 14_000)
        let log = try AlertLog(directory: dir, zone: .shanghai, retention: bySize)
        var removed: [String] = []
        log.onPrune = { removed += $0 }
        try fill(log, 1...300)
        let kept = try AlertLog.files(dir)
        let total = try segments(dir).reduce(Int64(0)) { $0 + Files.size($1)! + (Files.size(AlertLogIndex.path(of: $1)) ?? 0) }
        #expect(kept.count >= 2 && total <= 14_000 + 4096 + 1024, "\(kept) \(total)")
        #expect(!removed.isEmpty && removed.allSatisfy { !Files.exists(dir + "/" + $0) && !Files.exists(AlertLogIndex.path(of: dir + "/" + $0)) })
        let oldest = try #require(AlertLog.oldestSeq(directory: dir))
        #expect(oldest > 1)
        // What is kept reads as before; a position before it starts at the oldest kept event.
        #expect(try AlertLog.read(directory: dir, after: 0, limit: 3).map(\.seq) == [oldest, oldest + 1, oldest + 2])
        #expect(try AlertLog.read(directory: dir, after: oldest + 5).map(\.seq) == Array((oldest + 6)...300))

        // By age: segments last written 31 days ago go, the newest stays whatever its age.
        let byAge = AlertLogRetention(segmentBytes: 4096, maxAge: 30 * Time.microsPerDay, maxBytes: nil)
        let files = try segments(dir)
        let old = timeval(tv_sec: time(nil) - 31 * 86_400, tv_usec: 0)
        for f in files.prefix(2) + [files.last!] { _ = utimes(f, [old, old]) }
        // An index left without its segment goes too.
        let orphan = AlertLogIndex.path(of: dir + "/" + AlertLog.fileName(7))
        try Files.writeAtomically(orphan, AlertLogIndex.encode(.init(firstSeq: 7, offset: 0)), sync: false)
        let aged = try AlertLog(directory: dir, zone: .shanghai, retention: byAge)
        #expect(!Files.exists(orphan))
        #expect(aged.prunedAtOpen == files.prefix(2).map { String($0.split(separator: "/").last!) })
        #expect(try segments(dir) == Array(files.dropFirst(2)))
        #expect(aged.lastSeq == 300)
        #expect(aged.prune(now: Clock.now() + 40 * Time.microsPerDay).count == files.count - 3)
        #expect(try segments(dir) == [files.last!])
        #expect(try AlertLog.read(directory: dir, after: 299).map(\.seq) == [300])
    }
}
