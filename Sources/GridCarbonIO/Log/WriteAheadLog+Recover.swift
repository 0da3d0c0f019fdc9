import GridCarbonEngine
import GridCarbonModel

extension WriteAheadLog {
    /// Why recovery stopped: a damaged segment that is not the last one.
    public struct CorruptSegment: Error, CustomStringConvertible, Sendable {
        /// The segment's first LSN.
        public let segment: Int64
        /// Where in it the damage starts.
        public let offset: Int
        public var description: String {
            "write-ahead log segment \(FileLogStorage.names.name(segment)) is corrupt at byte \(offset), and it is not the last segment; move it aside to start (data after it would be lost)"
        }
    }

    /// Reads every intact entry from `fromLSN` on, in order, handing `body` the LSN just after each
    /// entry and its payload, and returns the end LSN. A torn or corrupt tail of the last segment
    /// is cut off (it was never acknowledged); damage before the last segment is an error: the
    /// operator must look.
    public static func recover(storage: any LogStorage, from fromLSN: Int64 = 0,
                               _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let segs = try storage.segments()
        var end = fromLSN
        for (i, s) in segs.enumerated() {
            let next = i + 1 < segs.count ? segs[i + 1] : Int64.max
            if next <= fromLSN { continue }
            let bytes = try storage.read(s)
            var off = 0
            var lsn = s
            var torn = false
            try bytes.withUnsafeBytes { p in
                while off < p.count {
                    guard off + 8 <= p.count else { torn = true; break }
                    let len = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: off, as: UInt32.self)))
                    let crc = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self))
                    guard len <= p.count - off - 8 else { torn = true; break }
                    let payload = UnsafeRawBufferPointer(rebasing: p[(off + 8)..<(off + 8 + len)])
                    guard CRC32.checksum(payload) == crc else { torn = true; break }
                    let after = lsn + Int64(8 + len)
                    if lsn >= fromLSN { try body(after, payload) }
                    off += 8 + len
                    lsn = after
                }
            }
            if torn {
                guard i == segs.count - 1 else { throw CorruptSegment(segment: s, offset: off) }
                try storage.truncate(s, to: off)
            }
            end = max(end, lsn)
        }
        return end
    }
}
