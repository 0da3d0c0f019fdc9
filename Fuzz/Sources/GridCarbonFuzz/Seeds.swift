import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes the binary seeds of the `wal` and `checkpoint` targets (Fuzz/corpus/), made by the real
/// writers: `scripts/fuzz.sh seeds` after a format change.
enum Seeds {
    static let lines = """
        f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:20:00+08:00,0.52
        m,CN-YN,2026-11-18T10:00:00+08:00,2026-11-18T12:00:00+08:00,hydro,900
        r,A,2026-11-18T10:00:00+08:00,1000.00
        r,B,2026-11-18T10:00:00+08:00,500.00
        i,T,2026-11-18T10:00:00+08:00,2026-11-18T10:30:00+08:00,3.0
        r,A,2026-11-18T10:15:00+08:00,1012.50
        r,B,2026-11-18T10:15:00+08:00,505.00
        r,A,2026-11-18T10:30:00+08:00,1025.00
        r,C,2026-11-18T10:30:00+08:00,20.00
        r,A,2026-11-18T11:30:00+08:00,1100.00

        """

    static func write(to dir: String) throws {
        // Checkpoints: of a fresh engine, and of one that has taken the lines above.
        for (name, feed) in [("fresh", ""), ("fed", lines)] {
            let engine = Engine(settings: EngineSettings(), registry: FuzzLines.registry, sink: NullSink(), now: 0)
            var line: Int64 = 0
            Array(feed.utf8).withUnsafeBytes { _ = engine.ingest($0, source: 0, line: &line) }
            let tmp = "\(dir)/tmp-\(name)"
            let store = CheckpointStore(directory: tmp, logger: Logger(label: "seeds"))
            _ = try store.write(.init(lsn: 1234, sideSegment: 0, sideSizes: [10, 20, 30]), engine: engine)
            guard let file = try store.list().last else { continue }
            let bytes = try Files.read("\(tmp)/\(file.name)")
            unlink("\(tmp)/\(file.name)"); rmdir(tmp)
            try save([0] + bytes, "\(dir)/checkpoint-\(name)-raw")
            try save([1] + bytes, "\(dir)/checkpoint-\(name)-fixed")
        }
        // Log entries of every kind, as a segment on disk and as the framed list.
        let csv = Array(lines.utf8), reg = Array("meter_id,region,city,park,enterprise,industry,max_kw\nA,CN-GD,SZ,,,C,\n".utf8)
        let rules = Array("{\"alerts\":{\"rules\":[]}}\n".utf8), budgets = Array("level,key,period,budget_kg\n".utf8)
        var entries: [[UInt8]] = []
        csv.withUnsafeBytes { c in
            reg.withUnsafeBytes { g in
                rules.withUnsafeBytes { j in
                    budgets.withUnsafeBytes { b in
                        let all: [LogEntry] = [
                            .registry(csv: g),
                            .batch(receivedAt: 1_794_967_200_000_000, now: 1_794_967_200_000_000, source: "tcp:127.0.0.1:5000", lines: c),
                            .watermark(1_794_967_200_000_000, receivedAt: 1_794_967_300_000_000),
                            .rejectedLine(receivedAt: 5, reason: .lineTooLong, source: "http", line: c),
                            .tables(basis: "embedded", annualCSV: c, sourcesCSV: c),
                            .alerts(rulesJSON: j, budgetsCSV: b),
                            .stream(seq: 7, receivedAt: 8, now: 9, payload: c),
                            .partial(seq: 10, batch: c),
                            .grid(seq: 11, receivedAt: 12, lines: c),
                            .gridThrough(13),
                        ]
                        entries = all.map { $0.encoded() }
                    }
                }
            }
        }
        var segment: [UInt8] = [0], list: [UInt8] = [1]
        for e in entries {
            var w = ByteWriter()
            w.u32(UInt32(e.count)); w.u32(CRC32.checksum(e)); w.bytes(e)
            segment += w.bytes
            var l = ByteWriter()
            l.u16(UInt16(e.count)); l.bytes(e)
            list += l.bytes
        }
        try save(segment, "\(dir)/wal-segment")
        try save(list, "\(dir)/wal-entries")
    }

    static func save(_ bytes: [UInt8], _ path: String) throws {
        try Files.writeAtomically(path, bytes, sync: false)
    }
}
