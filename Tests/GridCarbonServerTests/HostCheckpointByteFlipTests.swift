import GridCarbonEngine
@testable import GridCarbonIO
import GridCarbonModel
import Logging
import Testing
@testable import GridCarbonServer

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's checkpoint file (`GCHOST03`, reference §6) with any single byte flipped is refused
/// with an error, never restored with other numbers: the header CRC covers the LSN, the side-output
/// sizes and the registry snapshot, the engine checkpoint has its own. `GCHOST02` files still read.
@Suite struct HostCheckpointByteFlipTests {
    static let registryCSV = """
        meter_id,region,city,park,enterprise,industry,max_kw
        A,CN-GD,SZ,P1,E1,C,1000
        B,CN-GD,GZ,,E2,D,
        """
    static let lines = """
        r,A,2026-11-18T10:00:00+08:00,1000.00
        r,B,2026-11-18T10:00:00+08:00,500.00
        r,A,2026-11-18T10:15:00+08:00,1012.50

        """

    final class Discard: EngineSink {
        func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {}
        func late(line: UnsafeRawBufferPointer, origin: LineOrigin) {}
        func lateSpan(_ span: LateSpan) {}
        func anomaly(_ anomaly: Anomaly) {}
        func windowClosed(_ window: ClosedWindow) {}
    }

    static func engine(_ registry: Registry) -> Engine {
        Engine(settings: EngineSettings(), registry: registry, sink: Discard(), now: 0)
    }

    /// A checkpoint file written by ``CheckpointStore``, read back as bytes.
    static func written() throws -> [UInt8] {
        var template = Array("/tmp/gridcarbon-hostflip-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw IOError(path: "/tmp", message: "mkdtemp failed") }
        let dir = String(cString: p)
        defer { rmdir(dir) }
        let registry = try Registry(csv: registryCSV, origin: "test")
        let engine = engine(registry)
        var line: Int64 = 0
        Array(lines.utf8).withUnsafeBytes { _ = engine.ingest($0, source: 0, line: &line) }
        let store = CheckpointStore(directory: dir, logger: Logger(label: "test"))
        _ = try store.write(.init(lsn: 4321, sideSegment: 7, sideSizes: [1, 2, 3]), engine: engine)
        let name = try #require(try store.list().last?.name)
        defer { unlink("\(dir)/\(name)") }
        return try Files.read("\(dir)/\(name)")
    }

    static func read(_ bytes: [UInt8]) throws -> CheckpointStore.Loaded {
        let fallback = try Registry(csv: registryCSV, origin: "test")
        return try bytes.withUnsafeBytes { try CheckpointStore.read($0, make: { engine($0 ?? fallback) }) }
    }

    @Test func everyFlippedByteIsRefused() throws {
        let good = try Self.written()
        #expect(good.prefix(8).elementsEqual(Array("GCHOST03".utf8)))
        let loaded = try Self.read(good)
        #expect(loaded.header.lsn == 4321 && loaded.header.sideSegment == 7 && loaded.header.sideSizes == [1, 2, 3])
        let state = loaded.engine.checkpoint()
        for i in 0..<good.count {
            var bad = good
            bad[i] ^= 0xFF
            do {
                let l = try Self.read(bad)
                Issue.record("byte \(i) of \(good.count) flipped: restored (lsn \(l.header.lsn), same state: \(l.engine.checkpoint() == state))")
            } catch {
                #expect(!"\(error)".isEmpty)
            }
        }
    }

    /// A `GCHOST02` file (no header CRC) written before this version still restores.
    @Test func version2StillReads() throws {
        let v3 = try Self.written()
        let n = v3.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 48, as: Int64.self)) }
        var v2 = Array("GCHOST02".utf8) + v3[8..<(56 + n)]
        v2 += v3[(56 + n + 4)...]
        let loaded = try Self.read(v2)
        #expect(loaded.header.lsn == 4321 && loaded.header.sideSizes == [1, 2, 3])
        #expect(loaded.engine.checkpoint() == (try Self.read(v3)).engine.checkpoint())
    }
}
