import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// The write-ahead log (reference §6): a segment's frames (length, CRC-32, payload) read by
/// recovery, and each entry's payload decoded (``LogEntry``).
///
/// The first input byte picks the mode: even, the rest is a segment as on disk; odd, the rest is
/// a list of entry payloads (u16 length each) that the harness frames with good CRCs, so that the
/// fuzzer reaches the entry decoder.
enum FuzzWAL {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard let mode = data.first else { return }
        let rest = UnsafeRawBufferPointer(rebasing: data[1...])
        let segment = mode & 1 == 0 ? Array(rest) : framed(rest)
        let storage = MemoryLogStorage(segment)
        var entries = 0
        let end = try! WriteAheadLog.recover(storage: storage) { _, payload in
            entries += 1
            if let entry = try? LogEntry(decoding: payload) {
                // What decodes encodes back to the same bytes (names aside: invalid UTF-8 in them
                // is read as U+FFFD).
                precondition(hasName(entry) || entry.encoded().elementsEqual(payload), "log entry does not round-trip")
            }
        }
        precondition(end == Int64(storage.bytes.count), "recovery end is not the intact length")
        _ = entries
    }

    static func hasName(_ entry: LogEntry) -> Bool {
        switch entry {
        case .batch, .rejectedLine, .tables: true
        default: false
        }
    }

    static func framed(_ list: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        var r = ByteReader(list)
        while let n = try? r.u16() {
            let payload = r.rest()
            let p = UnsafeRawBufferPointer(rebasing: payload[0..<min(Int(n), payload.count)])
            r = ByteReader(UnsafeRawBufferPointer(rebasing: payload[p.count...]))
            var w = ByteWriter()
            w.u32(UInt32(p.count)); w.u32(CRC32.checksum(p)); w.bytes(p)
            out += w.bytes
        }
        return out
    }
}

/// One segment in memory, starting at LSN 0.
final class MemoryLogStorage: LogStorage, @unchecked Sendable {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func segments() throws -> [Int64] { [0] }
    func read(_ segment: Int64) throws -> [UInt8] { bytes }
    func create(_ segment: Int64) throws {}
    func openForAppend(_ segment: Int64) throws {}
    func append(_ segment: Int64, header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) throws {
        bytes += header; bytes += payload
    }
    func sync(_ segment: Int64) throws {}
    func close(_ segment: Int64) {}
    func truncate(_ segment: Int64, to size: Int) throws { bytes.removeSubrange(size...) }
    func remove(_ segment: Int64) { bytes = [] }
    func size(_ segment: Int64) -> Int64 { Int64(bytes.count) }
}
