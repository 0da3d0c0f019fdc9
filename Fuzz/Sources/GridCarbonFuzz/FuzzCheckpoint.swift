import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// The daemon's checkpoint reader (reference §6): the host header, the registry snapshot and the
/// engine checkpoint, restored into a fresh engine as the daemon does at start.
///
/// The first input byte picks the mode: even, the rest is a checkpoint file as on disk; odd, the
/// harness first rewrites the checksums (host header CRC, registry snapshot hash, engine payload
/// length and CRC) to match, so that the fuzzer reaches the readers behind them (a writer bug or a
/// collision must not crash either).
enum FuzzCheckpoint {
    static let registry = FuzzLines.registry

    static func run(_ data: UnsafeRawBufferPointer) {
        guard let mode = data.first else { return }
        var file = Array(data[1...])
        if mode & 1 == 1 { fixChecksums(&file) }
        file.withUnsafeBytes { p in
            guard let loaded = try? CheckpointStore.read(p, make: { snap in
                Engine(settings: EngineSettings(), registry: snap ?? registry, sink: NullSink(), now: 0)
            }) else { return }
            // What restored checkpoints again, and that restores.
            let again = loaded.engine.checkpoint()
            let fresh = Engine(settings: EngineSettings(), registry: loaded.engine.registry, sink: NullSink(), now: 0)
            do { try fresh.restore(from: again) } catch { preconditionFailure("a restored engine's checkpoint does not restore: \(error)") }
        }
    }

    /// Makes every checksum of a `GCHOST03` file agree with its bytes, where the layout is there.
    static func fixChecksums(_ b: inout [UInt8]) {
        guard b.count >= 56, b[0..<8].elementsEqual(CheckpointStore.magic) else { return }
        let n = b.withUnsafeBytes { Int(truncatingIfNeeded: Int64(littleEndian: $0.loadUnaligned(fromByteOffset: 48, as: Int64.self))) }
        guard n >= 0, n <= b.count - 60 else { return }
        if n >= 24 {
            var h = FoldHash()
            b.withUnsafeBytes { h.add(UnsafeRawBufferPointer(rebasing: $0[56..<(56 + n - 8)])) }
            put(&b, at: 56 + n - 8, h.value)
        }
        put(&b, at: 56 + n, CRC32.checksum(Array(b[0..<(56 + n)])))
        let e = 56 + n + 4
        let header = EngineCheckpointFormat.headerSize
        guard b.count - e >= header else { return }
        put(&b, at: e + 16, UInt64(b.count - e - header))
        var crc = CRC32.checksum(Array(b[e..<(e + 24)]))
        crc = CRC32.checksum(Array(b[(e + header)...]), seed: crc)
        put(&b, at: e + 24, crc)
    }

    static func put<T: FixedWidthInteger>(_ b: inout [UInt8], at offset: Int, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { src in
            for (i, x) in src.enumerated() { b[offset + i] = x }
        }
    }
}

/// Discards everything the engine hands out.
final class NullSink: EngineSink {
    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {}
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin) {}
    func lateSpan(_ span: LateSpan) {}
    func anomaly(_ anomaly: Anomaly) {}
    func windowClosed(_ window: ClosedWindow) {}
}
