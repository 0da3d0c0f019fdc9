#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd

/// The index of one alert log segment (reference §5): `<segment>.idx` beside it, one 16-byte
/// record per zstd frame, the frame's first `seq` and its byte offset (both little-endian
/// `Int64`), in file order. A reader looks its start up by binary search (a few `pread`s) and
/// decompresses only the frames from there on, so reading from a `seq` costs what it reads.
///
/// The index is a cache: a missing, short or wrong index is rebuilt from the segment's frames.
/// The writer appends a record after each frame, so an index never names a frame not written yet.
public enum AlertLogIndex {
    public static let recordBytes = 16

    /// `<segment path>.idx`
    public static func path(of segment: String) -> String { segment + ".idx" }

    /// One record: a frame's first `seq` and its offset in the segment.
    public struct Record: Sendable, Equatable {
        public var firstSeq: Int64
        public var offset: Int64
    }

    static func encode(_ r: Record) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(recordBytes)
        for v in [r.firstSeq, r.offset] {
            var u = UInt64(bitPattern: v)
            for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: u)); u >>= 8 }
        }
        return out
    }

    static func decode(_ p: UnsafeRawBufferPointer, at i: Int) -> Record {
        func int(_ o: Int) -> Int64 {
            var u: UInt64 = 0
            for k in (0..<8).reversed() { u = u << 8 | UInt64(p[o + k]) }
            return Int64(bitPattern: u)
        }
        return Record(firstSeq: int(i), offset: int(i + 8))
    }

    /// Appends one record to the index of `segment` (not fsynced: an index is rebuilt when short).
    static func append(_ r: Record, segment: String) throws {
        let path = path(of: segment)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot open") }
        defer { close(fd) }
        try encode(r).withUnsafeBytes { try Files.writeAll(fd, $0, path: path) }
    }

    /// Every record of the index file of `segment` (nil when there is none); a torn last record
    /// is left out.
    static func records(segment: String) -> [Record]? {
        let path = path(of: segment)
        guard Files.exists(path), let bytes = try? Files.read(path) else { return nil }
        let n = bytes.count / recordBytes
        return bytes.withUnsafeBytes { p in (0..<n).map { decode(p, at: $0 * recordBytes) } }
    }

    /// The record of the last frame whose first `seq` is at most `seq`, found by binary search
    /// over the index file with `pread` (the first record when all start after `seq`); nil when
    /// the index is missing or empty.
    static func lookup(segment: String, seq: Int64) -> Record? {
        let path = path(of: segment)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let n = Int(st.st_size) / recordBytes
        guard n > 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: recordBytes)
        func at(_ i: Int) -> Record? {
            let got = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, recordBytes, off_t(i * recordBytes)) }
            guard got == recordBytes else { return nil }
            return buf.withUnsafeBytes { decode($0, at: 0) }
        }
        guard let first = at(0) else { return nil }
        if first.firstSeq > seq { return first }
        var lo = 0, hi = n - 1   // invariant: record lo starts at or before seq
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            guard let r = at(mid) else { return nil }
            if r.firstSeq <= seq { lo = mid } else { hi = mid - 1 }
        }
        return at(lo)
    }

    /// Builds the index of `segment` from its frames (each decompressed for its first `seq`), up
    /// to `validBytes`; with `write`, replaces the index file.
    @discardableResult
    static func rebuild(segment: String, write: Bool) throws -> [Record] {
        let bytes = try Files.read(segment)
        var out: [Record] = []
        try bytes.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = ZSTD_findFrameCompressedSize(p.baseAddress! + off, p.count - off)
                if ZSTD_isError(n) != 0 || n == 0 || off + n > p.count { break }
                let text = try Zstd.decompress(Array(p[off..<(off + n)]))
                if let seq = AlertLog.seq(of: Array(text.prefix(32))) { out.append(Record(firstSeq: seq, offset: Int64(off))) }
                off += n
            }
        }
        if write {
            var file: [UInt8] = []
            for r in out { file += encode(r) }
            try Files.writeAtomically(path(of: segment), file, sync: true)
        }
        return out
    }
}
