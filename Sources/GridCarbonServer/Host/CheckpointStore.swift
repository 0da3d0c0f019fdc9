import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's checkpoints: `<data>/checkpoint/checkpoint-<LSN, 20 digits>.bin`, the newest two
/// kept (the log from the older one on stays, so a damaged newest one falls back to it). One that
/// does not restore is renamed `….bin.damaged` and no longer counts.
///
/// File layout (little-endian, ``ByteSink``): `GCHOST03`; the LSN the checkpoint is taken at; the
/// side-output segment and its three files' sizes (rejected, late, anomalies); the registry
/// snapshot's length and bytes (``Registry/snapshot()``); a CRC-32 of every byte before it; the
/// engine checkpoint (``EngineCheckpointFormat``, which has its own CRC). `GCHOST02` files are the
/// same without the header CRC (a flipped byte in their LSN or side-output sizes went unnoticed);
/// `GCHOST01` files, from before live registry reloads, have no registry snapshot either and
/// restore with the registry file. Both are still read.
struct CheckpointStore {
    /// What a checkpoint file holds besides the engine.
    struct Header {
        /// Log position: the checkpoint holds every entry before it.
        var lsn: Int64
        /// Side-output segment in force.
        var sideSegment: Int64
        /// Sizes of the side-output files then (rejected, late, anomalies).
        var sideSizes: [Int64]
    }

    /// A checkpoint restored.
    struct Loaded {
        var engine: Engine
        var header: Header
    }

    static let names = SequenceName(prefix: "checkpoint-", suffix: ".bin")
    static let magic = Array("GCHOST03".utf8)
    static let magicV2 = Array("GCHOST02".utf8)
    static let magicV1 = Array("GCHOST01".utf8)

    let directory: String
    let logger: Logger

    /// Writes a checkpoint of `engine` (streamed: the engine's state is not copied into one buffer
    /// first), keeps it and the one before, and returns the LSN from which the log is still
    /// needed, with the file's size.
    func write(_ header: Header, engine: Engine) throws -> (keepLogFrom: Int64?, bytes: Int) {
        precondition(header.sideSizes.count == 3, "three side outputs")
        var head = ByteWriter(Self.magic)
        head.i64(header.lsn)
        head.i64(header.sideSegment)
        for v in header.sideSizes { head.i64(v) }
        let registry = engine.registry.snapshot()
        head.i64(Int64(registry.count))
        head.bytes(registry)
        head.u32(CRC32.checksum(head.bytes))
        var bytes = head.bytes.count
        try Files.makeDirectories(directory)
        try Files.writeAtomically("\(directory)/\(Self.names.name(header.lsn))") { write in
            try head.bytes.withUnsafeBytes { try write($0) }
            try engine.checkpoint { chunk in
                bytes += chunk.count
                try write(chunk)
            }
        }
        let all = try list()
        for old in all.dropLast(2) { unlink("\(directory)/\(old.name)") }
        return (all.count >= 2 ? all[all.count - 2].number : nil, bytes)
    }

    /// Checkpoint files, oldest first.
    func list() throws -> [(number: Int64, name: String)] {
        guard Files.isDirectory(directory) else { return [] }
        return Self.names.numbered(try Files.list(directory))
    }

    /// Restores the newest checkpoint that loads into an engine from `make`, which gets the
    /// registry stored in the checkpoint (nil for `GCHOST01` files: they use the registry file);
    /// one that does not load is skipped, with a warning, for the one before it.
    func loadNewest(make: (Registry?) -> Engine) throws -> Loaded? {
        for file in try list().reversed() {
            let bytes = try Files.read("\(directory)/\(file.name)")
            do {
                return try bytes.withUnsafeBytes { all in
                    let loaded = try Self.read(all, make: make)
                    logger.info("restored checkpoint", metadata: ["file": "\(file.name)", "lsn": "\(loaded.header.lsn)"])
                    return loaded
                }
            } catch {
                // Set aside, so that it no longer counts among the two kept (the log stays from the
                // older one on) and an operator can look at it.
                let aside = "\(directory)/\(file.name).damaged"
                rename("\(directory)/\(file.name)", aside)
                logger.warning("skipping checkpoint that does not restore; moved aside", metadata: ["file": "\(aside)", "error": "\(error)"])
            }
        }
        return nil
    }

    /// Reads one checkpoint file.
    static func read(_ bytes: UnsafeRawBufferPointer, make: (Registry?) -> Engine) throws -> Loaded {
        var r = ByteReader(bytes, context: "host checkpoint")
        let magic = try r.bytes(8, "the magic")
        let v3 = magic.elementsEqual(Self.magic)
        let v2 = v3 || magic.elementsEqual(Self.magicV2)
        guard v2 || magic.elementsEqual(Self.magicV1) else { throw r.bad("magic", "not a gridcarbon checkpoint") }
        let lsn = try r.i64("LSN"), segment = try r.i64("side-output segment")
        let sizes = [try r.i64("rejected size"), try r.i64("late size"), try r.i64("anomalies size")]
        var snapshot: UnsafeRawBufferPointer?
        if v2 {
            let n = try r.count(each: 1, "registry snapshot bytes")
            snapshot = try r.bytes(n, "registry snapshot")
        }
        if v3 {
            let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<r.at]))
            let stored = try r.u32("the header CRC-32")
            guard stored == computed else {
                throw ByteCodecError(.badValue, field: "the header CRC-32", offset: r.at - 4, context: r.context,
                                     detail: "header CRC-32 mismatch (stored \(stored), computed \(computed)): the checkpoint is damaged")
            }
        }
        let registry = try snapshot.map { p throws(TableError) in try Registry(snapshot: Array(p)) }
        let engine = make(registry)
        try engine.restore(from: r.rest())
        return Loaded(engine: engine, header: Header(lsn: lsn, sideSegment: segment, sideSizes: sizes))
    }
}
