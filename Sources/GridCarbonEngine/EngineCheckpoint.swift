import GridCarbonModel

/// Why ``Engine/restore(from:)`` refused a checkpoint.
public enum CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `restore` was called on an engine that has already taken input.
    case engineNotFresh(String)
    /// The bytes do not start with the checkpoint magic.
    case notACheckpoint
    /// Written by a newer (or unknown) format version.
    case unsupportedVersion(UInt32)
    /// Truncated, bit-flipped or otherwise malformed.
    case corrupt(String)
    /// Taken with other settings or another registry: the state would not mean the same thing here.
    case configurationMismatch(String)

    public var description: String {
        switch self {
        case .engineNotFresh(let why): return "cannot restore a checkpoint into an engine that already holds state (\(why)); restore into a freshly constructed engine"
        case .notACheckpoint: return "not a gridcarbon engine checkpoint (bad magic)"
        case .unsupportedVersion(let v): return "checkpoint format version \(v) is not supported (this build reads version \(EngineCheckpointFormat.version))"
        case .corrupt(let why): return "corrupt checkpoint: \(why)"
        case .configurationMismatch(let why): return "checkpoint does not match this configuration: \(why)"
        }
    }
}

/// The checkpoint format.
///
/// Header, 32 bytes, little-endian:
/// ```
///  0  magic "GCENGCKP"
///  8  u32 format version (1)
/// 12  u32 flags (0; bit 0 would mark a big-endian writer)
/// 16  u64 payload length
/// 24  u32 CRC-32 of bytes 0..<24 followed by the payload
/// 28  u32 reserved, 0
/// ```
/// The payload is a sequence of sections, each starting with a u64 tag (four ASCII letters), in
/// this order; integers are 64-bit unless said otherwise, arrays are raw host memory (little-endian
/// on every platform Swift runs this on; the flags refuse the other):
/// - `SETG`: zone offset (s), slot, window count + lengths, level count + level raw values (sorted),
///   reorder_window, span_horizon, max_gap, max_future.
/// - `REGY`: meter count, hash of the meter ids in order, profile count, hash of the profiles
///   (keys of each, meter → profile, key names; after a live reload also the live meter count and
///   the meter-level key names). The registry itself is not in the engine checkpoint: restore into
///   an engine built with the registry in force when it was taken (the daemon stores a
///   ``Registry/snapshot()`` next to it).
/// - `SCAL`: accepted, duplicate, rejected, late, watermark, maxEventTime, windowsClosed, closedBefore.
/// - `SRCS`: source name count, then per name its byte length and UTF-8 bytes.
/// - `BASE`: meter count, then baseline timestamps (i64 × meters) and values (f64 × meters).
/// - `PEND`: item count, then per meter in index order its pending items in list order, 32 bytes
///   each: key i64, start i64, value f64, meter i32, kind u32 (0 register, 1 interval).
/// - `SLOT`: ring size, touched count, then per touched slot (ring order) its ring index and the
///   slot's per-meter energy cells (f64 × meters).
/// - `WIND`: window length count; per length the open accumulator count, per accumulator its index,
///   energy, co2, realtime (f64 × profiles), spans, meters (i32 × profiles), seen bitset (u64 × words).
/// - `FACT`: region count; per region its real-time factors (count; start, end, value) and mix
///   records in arrival order (count; start, end, source, mwh).
/// - `TOTL`: day, month, year ids, profile count, then day, month and year (energy, co2) per profile.
/// - `ALRT` (optional): byte length, then the alert evaluator's state by names (Engine+Alerts.swift).
/// - `END.`
///
/// Pool indices, bucket links and caches are not written: restore rebuilds the links and leaves the
/// caches cold, which changes no output.
public enum EngineCheckpointFormat {
    public static let magic: [UInt8] = Array("GCENGCKP".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 32

    static func tag(_ s: StaticString) -> UInt64 {
        var v: UInt64 = 0
        let p = s.utf8Start
        for i in 0..<4 { v |= UInt64(p[i]) << (8 * UInt64(i)) }
        return v
    }
    static let settings = tag("SETG"), registry = tag("REGY"), scalars = tag("SCAL"), sources = tag("SRCS")
    static let baselines = tag("BASE"), pending = tag("PEND"), slots = tag("SLOT"), windows = tag("WIND")
    static let factors = tag("FACT"), totals = tag("TOTL"), alerts = tag("ALRT"), end = tag("END.")

    static func name(_ tag: UInt64) -> String {
        String(decoding: (0..<4).map { UInt8(truncatingIfNeeded: tag >> (8 * UInt64($0))) }, as: UTF8.self)
    }

    #if _endian(big)
    static let flags: UInt32 = 1
    #else
    static let flags: UInt32 = 0
    #endif
}

// MARK: - Fingerprint

/// What a checkpoint must agree with to be restored: the settings and the registry.
struct CheckpointFingerprint: Equatable {
    var zoneOffset: Int64
    var slot: Int64
    var windows: [Int64]
    var levels: [Int64]
    var reorderWindow: Int64
    var spanHorizon: Int64
    var maxGap: Int64
    var maxFuture: Int64
    var meterCount: Int64
    var idHash: UInt64
    var profileCount: Int64
    var profileHash: UInt64

    func write<O: CheckpointOutput>(_ o: inout O) {
        o.section(EngineCheckpointFormat.settings)
        o.i64(zoneOffset); o.i64(slot)
        o.i64(Int64(windows.count)); for w in windows { o.i64(w) }
        o.i64(Int64(levels.count)); for l in levels { o.i64(l) }
        o.i64(reorderWindow); o.i64(spanHorizon); o.i64(maxGap); o.i64(maxFuture)
        o.section(EngineCheckpointFormat.registry)
        o.i64(meterCount); o.u64(idHash); o.i64(profileCount); o.u64(profileHash)
    }

    static func read(_ r: inout CheckpointReader) throws -> CheckpointFingerprint {
        try r.section(EngineCheckpointFormat.settings)
        let zone = try r.i64(), slot = try r.i64()
        let nw = try r.count(each: 8, "window lengths")
        var windows: [Int64] = []
        for _ in 0..<nw { windows.append(try r.i64()) }
        let nl = try r.count(each: 8, "levels")
        var levels: [Int64] = []
        for _ in 0..<nl { levels.append(try r.i64()) }
        let reorder = try r.i64(), horizon = try r.i64(), gap = try r.i64(), future = try r.i64()
        try r.section(EngineCheckpointFormat.registry)
        let mc = try r.i64(), ih = try r.u64(), pc = try r.i64(), ph = try r.u64()
        return CheckpointFingerprint(zoneOffset: zone, slot: slot, windows: windows, levels: levels, reorderWindow: reorder,
                                     spanHorizon: horizon, maxGap: gap, maxFuture: future, meterCount: mc, idHash: ih,
                                     profileCount: pc, profileHash: ph)
    }

    /// What differs between a checkpoint's fingerprint (`self`) and this engine's (`here`), for the operator.
    func differences(from here: CheckpointFingerprint) -> [String] {
        var out: [String] = []
        func d(_ v: Int64) -> String { DurationFormat.format(v) }
        func ds(_ v: [Int64]) -> String { v.map(d).joined(separator: ",") }
        func ls(_ v: [Int64]) -> String { v.map { Level(rawValue: Int($0))?.name ?? "?\($0)" }.joined(separator: ",") }
        func zs(_ v: Int64) -> String {
            let a = abs(v)
            return (v < 0 ? "-" : "+") + String(format2: a / 3600) + ":" + String(format2: (a % 3600) / 60)
        }
        if zoneOffset != here.zoneOffset { out.append("zone offset \(zs(zoneOffset)) in the checkpoint, \(zs(here.zoneOffset)) here") }
        if slot != here.slot { out.append("resolution \(d(slot)) in the checkpoint, \(d(here.slot)) here") }
        if windows != here.windows { out.append("windows \(ds(windows)) in the checkpoint, \(ds(here.windows)) here") }
        if levels != here.levels { out.append("levels \(ls(levels)) in the checkpoint, \(ls(here.levels)) here") }
        if reorderWindow != here.reorderWindow { out.append("reorder_window \(d(reorderWindow)) in the checkpoint, \(d(here.reorderWindow)) here") }
        if spanHorizon != here.spanHorizon { out.append("span_horizon \(d(spanHorizon)) in the checkpoint, \(d(here.spanHorizon)) here") }
        if maxGap != here.maxGap { out.append("max_gap \(d(maxGap)) in the checkpoint, \(d(here.maxGap)) here") }
        if maxFuture != here.maxFuture { out.append("max_future \(d(maxFuture)) in the checkpoint, \(d(here.maxFuture)) here") }
        if meterCount != here.meterCount {
            out.append("registry has \(meterCount) meters in the checkpoint, \(here.meterCount) here")
        } else if idHash != here.idHash {
            out.append("registry meter ids differ (same count, \(meterCount), but other ids or another order)")
        } else if profileCount != here.profileCount || profileHash != here.profileHash {
            out.append("registry keys differ (the same meters, but their regions, cities, parks, enterprises or industries changed: \(profileCount) key combinations in the checkpoint, \(here.profileCount) here)")
        }
        return out
    }
}

private extension String {
    init(format2 v: Int64) { self = v < 10 ? "0\(v)" : "\(v)" }
}

/// A 64-bit hash over raw bytes (not cryptographic; it tells configurations apart).

// MARK: - Output

/// Where the state is written: first counted (to size the buffer exactly), then copied.
protocol CheckpointOutput {
    var counting: Bool { get }
    mutating func bytes(_ p: UnsafeRawPointer, count n: Int)
    /// Accounts for `n` bytes without producing them (counting pass only).
    mutating func reserve(_ n: Int)
}

extension CheckpointOutput {
    @inline(__always) mutating func i64(_ v: Int64) { withUnsafeBytes(of: v) { bytes($0.baseAddress!, count: 8) } }
    @inline(__always) mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v) { bytes($0.baseAddress!, count: 8) } }
    @inline(__always) mutating func f64(_ v: Double) { withUnsafeBytes(of: v) { bytes($0.baseAddress!, count: 8) } }
    @inline(__always) mutating func i32(_ v: Int32) { withUnsafeBytes(of: v) { bytes($0.baseAddress!, count: 4) } }
    @inline(__always) mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v) { bytes($0.baseAddress!, count: 4) } }
    @inline(__always) mutating func section(_ tag: UInt64) { u64(tag) }
    @inline(__always) mutating func raw<T>(_ p: UnsafePointer<T>, count n: Int) {
        if n > 0 { bytes(UnsafeRawPointer(p), count: n * MemoryLayout<T>.stride) }
    }
    mutating func array<T>(_ a: [T]) {
        a.withUnsafeBytes { if $0.count > 0 { bytes($0.baseAddress!, count: $0.count) } }
    }
}

struct CountingOutput: CheckpointOutput {
    var size = 0
    var counting: Bool { true }
    @inline(__always) mutating func bytes(_ p: UnsafeRawPointer, count n: Int) { size += n }
    mutating func reserve(_ n: Int) { size += n }
}

/// Computes the CRC-32 of the payload without keeping it.
struct CRCOutput: CheckpointOutput {
    var crc: UInt32
    var counting: Bool { false }
    @inline(__always) mutating func bytes(_ p: UnsafeRawPointer, count n: Int) {
        crc = CRC32.checksum(UnsafeRawBufferPointer(start: p, count: n), seed: crc)
    }
    mutating func reserve(_ n: Int) { preconditionFailure("reserve is for the counting pass") }
}

/// Hands the payload to a writer in chunks of about 1 MiB.
struct StreamOutput: CheckpointOutput {
    var buffer: [UInt8] = []
    let write: (UnsafeRawBufferPointer) throws -> Void
    var error: (any Error)?
    var written = 0
    var counting: Bool { false }
    init(write: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.write = write
        buffer.reserveCapacity(1 << 20)
    }
    mutating func bytes(_ p: UnsafeRawPointer, count n: Int) {
        written += n
        if buffer.count + n > 1 << 20 { flush() }
        if n >= 1 << 20 {
            if error == nil { do { try write(UnsafeRawBufferPointer(start: p, count: n)) } catch { self.error = error } }
            return
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
    }
    mutating func flush() {
        if !buffer.isEmpty && error == nil {
            do { try buffer.withUnsafeBytes { try write($0) } } catch { self.error = error }
        }
        buffer.removeAll(keepingCapacity: true)
    }
    mutating func reserve(_ n: Int) { preconditionFailure("reserve is for the counting pass") }
}

struct MemoryOutput: CheckpointOutput {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    var at = 0
    var counting: Bool { false }
    @inline(__always) mutating func bytes(_ p: UnsafeRawPointer, count n: Int) {
        precondition(n <= capacity - at, "checkpoint larger than counted")
        (base + at).copyMemory(from: p, byteCount: n)
        at += n
    }
    mutating func reserve(_ n: Int) { preconditionFailure("reserve is for the counting pass") }
}

// MARK: - Input

/// Reads the payload, checking every length against what is left.
struct CheckpointReader {
    let base: UnsafeRawPointer
    let end: Int
    var at: Int
    var current = "header"

    var remaining: Int { end - at }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0 && n <= end - at else {
            throw CheckpointError.corrupt("truncated in section \(current) reading \(what()): \(n) bytes needed at offset \(at), \(end - at) left")
        }
    }

    @inline(__always) mutating func load<T: BitwiseCopyable>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = base.loadUnaligned(fromByteOffset: at, as: T.self)
        at += MemoryLayout<T>.size
        return v
    }
    @inline(__always) mutating func i64(_ what: @autoclosure () -> String = "a number") throws -> Int64 { try load(Int64.self, what()) }
    @inline(__always) mutating func u64(_ what: @autoclosure () -> String = "a number") throws -> UInt64 { try load(UInt64.self, what()) }
    @inline(__always) mutating func f64(_ what: @autoclosure () -> String = "a number") throws -> Double { try load(Double.self, what()) }
    @inline(__always) mutating func i32(_ what: @autoclosure () -> String = "a number") throws -> Int32 { try load(Int32.self, what()) }
    @inline(__always) mutating func u32(_ what: @autoclosure () -> String = "a number") throws -> UInt32 { try load(UInt32.self, what()) }

    /// A count of items of `each` bytes that must all fit in what is left.
    mutating func count(each: Int, _ what: String) throws -> Int {
        let v = try i64("the number of \(what)")
        guard v >= 0 && v <= Int64(remaining / max(each, 1)) else {
            throw CheckpointError.corrupt("section \(current): \(v) \(what) do not fit in the \(remaining) bytes left")
        }
        return Int(v)
    }

    /// Copies `n` bytes to `dst` (or skips them when `dst` is nil).
    mutating func raw(_ n: Int, into dst: UnsafeMutableRawPointer?, _ what: @autoclosure () -> String) throws {
        try need(n, what())
        if let dst, n > 0 { dst.copyMemory(from: base + at, byteCount: n) }
        at += n
    }

    mutating func section(_ tag: UInt64) throws {
        let t = try u64("the tag of section \(EngineCheckpointFormat.name(tag))")
        guard t == tag else {
            throw CheckpointError.corrupt("expected section \(EngineCheckpointFormat.name(tag)) at offset \(at - 8) after \(current), found \(EngineCheckpointFormat.name(t).debugDescription)")
        }
        current = EngineCheckpointFormat.name(tag)
    }

    func fail(_ why: String) -> CheckpointError { .corrupt("section \(current): \(why)") }
}

// MARK: - Engine

extension Engine {
    /// The engine's state as bytes (see ``EngineCheckpointFormat``), for crash recovery: a fresh
    /// engine with the same settings, registry, tables and sink type that restores them and is fed
    /// the input after this point makes exactly the sink calls this engine would have made.
    ///
    /// Call it between input calls (never from inside a sink callback).
    public func checkpoint() -> [UInt8] {
        let fp = fingerprint()
        var counter = CountingOutput()
        writeState(&counter, fingerprint: fp)
        let payload = counter.size
        let header = EngineCheckpointFormat.headerSize
        return [UInt8](unsafeUninitializedCapacity: header + payload) { buf, initialized in
            let base = UnsafeMutableRawPointer(buf.baseAddress!)
            var out = MemoryOutput(base: base + header, capacity: payload)
            writeState(&out, fingerprint: fp)
            precondition(out.at == payload, "checkpoint size changed between the counting and the writing pass")
            base.copyMemory(from: EngineCheckpointFormat.magic, byteCount: 8)
            base.storeBytes(of: EngineCheckpointFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            base.storeBytes(of: EngineCheckpointFormat.flags.littleEndian, toByteOffset: 12, as: UInt32.self)
            base.storeBytes(of: UInt64(payload).littleEndian, toByteOffset: 16, as: UInt64.self)
            var crc = CRC32.checksum(UnsafeRawBufferPointer(start: base, count: 24))
            crc = CRC32.checksum(UnsafeRawBufferPointer(start: base + header, count: payload), seed: crc)
            base.storeBytes(of: crc.littleEndian, toByteOffset: 24, as: UInt32.self)
            base.storeBytes(of: UInt32(0), toByteOffset: 28, as: UInt32.self)
            initialized = header + payload
        }
    }

    /// The bytes of ``checkpoint()`` handed to `write` in chunks of about 1 MiB, so a large engine is
    /// checkpointed to a file without holding a second copy of its state. Three passes over the
    /// state (size, CRC, bytes); the state must not change in between (call it on the engine's own
    /// thread, between input calls).
    public func checkpoint(into write: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fp = fingerprint()
        var counter = CountingOutput()
        writeState(&counter, fingerprint: fp)
        let payload = counter.size
        var header = [UInt8](repeating: 0, count: EngineCheckpointFormat.headerSize)
        header.withUnsafeMutableBytes { h in
            h.copyMemory(from: UnsafeRawBufferPointer(start: EngineCheckpointFormat.magic, count: 8))
            h.storeBytes(of: EngineCheckpointFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            h.storeBytes(of: EngineCheckpointFormat.flags.littleEndian, toByteOffset: 12, as: UInt32.self)
            h.storeBytes(of: UInt64(payload).littleEndian, toByteOffset: 16, as: UInt64.self)
        }
        var crc = CRCOutput(crc: header.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<24])) })
        writeState(&crc, fingerprint: fp)
        header.withUnsafeMutableBytes { $0.storeBytes(of: crc.crc.littleEndian, toByteOffset: 24, as: UInt32.self) }
        try header.withUnsafeBytes { try write($0) }
        try withoutActuallyEscaping(write) { w in
            var out = StreamOutput(write: w)
            writeState(&out, fingerprint: fp)
            out.flush()
            if let e = out.error { throw e }
            precondition(out.written == payload, "checkpoint size changed between the counting and the writing pass")
        }
    }

    /// Restores the state of ``checkpoint()`` into this engine, which must be freshly constructed
    /// (nothing ingested, no source registered, the watermark not moved) with the same settings and
    /// registry. Throws ``CheckpointError`` and leaves the engine untouched when the checkpoint is
    /// corrupt, truncated, of another version or configuration.
    public func restore(from bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try restore(from: $0) }
    }

    /// ``restore(from:)-([UInt8])`` from raw memory (a mapped or read file).
    public func restore(from bytes: UnsafeRawBufferPointer) throws {
        if let why = notFreshReason() { throw CheckpointError.engineNotFresh(why) }
        let header = EngineCheckpointFormat.headerSize
        guard bytes.count >= 8, let base = bytes.baseAddress else {
            throw bytes.isEmpty ? CheckpointError.corrupt("empty") : CheckpointError.corrupt("truncated: \(bytes.count) bytes, shorter than the magic")
        }
        guard bytes.prefix(8).elementsEqual(EngineCheckpointFormat.magic) else { throw CheckpointError.notACheckpoint }
        guard bytes.count >= header else { throw CheckpointError.corrupt("truncated: \(bytes.count) bytes, shorter than the \(header)-byte header") }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == EngineCheckpointFormat.version else { throw CheckpointError.unsupportedVersion(version) }
        let flags = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard flags == EngineCheckpointFormat.flags else {
            throw CheckpointError.corrupt(flags == 1 || flags == 0 ? "written on a machine of the other byte order" : "unknown flags \(flags)")
        }
        let payload = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard payload == UInt64(bytes.count - header) else {
            throw CheckpointError.corrupt(payload > UInt64(bytes.count - header)
                ? "truncated: the header announces \(payload) bytes of state, \(bytes.count - header) present"
                : "\(UInt64(bytes.count - header) - payload) bytes of trailing garbage after the \(payload) bytes of state")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        var crc = CRC32.checksum(UnsafeRawBufferPointer(start: base, count: 24))
        crc = CRC32.checksum(UnsafeRawBufferPointer(start: base + header, count: bytes.count - header), seed: crc)
        guard crc == stored else {
            throw CheckpointError.corrupt("CRC-32 mismatch (stored \(hex(stored)), computed \(hex(crc)))")
        }
        guard bytes.loadUnaligned(fromByteOffset: 28, as: UInt32.self) == 0 else {
            throw CheckpointError.corrupt("reserved header field is not zero")
        }
        // Two passes over the same bytes: the first checks everything and changes nothing, so a
        // refused checkpoint leaves the engine fresh; the second applies.
        let here = fingerprint()
        var check = CheckpointReader(base: base, end: bytes.count, at: header)
        try readState(&check, here: here, apply: false)
        var apply = CheckpointReader(base: base, end: bytes.count, at: header)
        try readState(&apply, here: here, apply: true)
        resetCaches()
    }

    // MARK: Fingerprint

    func fingerprint() -> CheckpointFingerprint {
        let (idHash, profileHash) = registryHashes ?? hashRegistry()
        registryHashes = (idHash, profileHash)
        return CheckpointFingerprint(
            zoneOffset: Int64(settings.zone.offsetSeconds), slot: settings.slot, windows: settings.windows,
            levels: Set(settings.levels).map { Int64($0.rawValue) }.sorted(),
            reorderWindow: settings.reorderWindow, spanHorizon: settings.spanHorizon, maxGap: settings.maxGap,
            maxFuture: settings.maxFuture, meterCount: Int64(meterCount), idHash: idHash,
            profileCount: Int64(profileCount), profileHash: profileHash)
    }

    /// Hashes of the meter ids in order, and of the profiles (their keys, meter → profile, key names).
    func hashRegistry() -> (ids: UInt64, profiles: UInt64) {
        var ids = FoldHash()
        var buf: [UInt8] = []
        buf.reserveCapacity(1 << 16 + 128)
        for m in 0..<meterCount {
            registry.appendID(m, to: &buf)
            buf.append(0x0A)
            if buf.count >= 1 << 16 {
                buf.withUnsafeBytes { ids.add($0) }
                buf.removeAll(keepingCapacity: true)
            }
        }
        buf.withUnsafeBytes { ids.add($0) }
        var keys = FoldHash()
        for p in profiles {   // per field: the struct's layout is not part of the format
            keys.add(Int64(p.region) << 32 | Int64(UInt32(bitPattern: p.city)))
            keys.add(Int64(p.park) << 32 | Int64(UInt32(bitPattern: p.enterprise)))
            keys.add(Int64(p.industry) << 32 | Int64(UInt32(bitPattern: p.meter)))
        }
        keys.add(UnsafeRawBufferPointer(start: profileOf, count: meterCount * 4))
        for level in Level.allCases where level != .meter {   // meter names are the ids, hashed above
            for name in registry.keyNames[level.rawValue] {
                var name = name
                name.withUTF8 { keys.add(UnsafeRawBufferPointer($0)) }
            }
            keys.add(Int64(-1))
        }
        // After a live reload (Engine+Registry.swift): retired meters, and meter-level keys that
        // are no longer the ids in meter order. Registries read from a file hash as before.
        if registry.liveCount != meterCount { keys.add(Int64(registry.liveCount)) }
        let meterKeys = registry.keyNames[Level.meter.rawValue]
        if !meterKeys.isEmpty && (meterKeys.count != meterCount || !meterKeys.indices.allSatisfy({ meterKeys[$0] == registry.meterID($0) })) {
            for name in meterKeys {
                var name = name
                name.withUTF8 { keys.add(UnsafeRawBufferPointer($0)) }
            }
            keys.add(Int64(-2))
        }
        return (ids.value, keys.value)
    }

    /// Why this engine cannot take a checkpoint, or nil when it is fresh.
    func notFreshReason() -> String? {
        if counts.total > 0 { return "\(counts.total) record lines ingested" }
        if !sourceNames.isEmpty { return "sources registered: \(sourceNames.joined(separator: ", "))" }
        if watermark != Time.distantPast || maxEventTime != Time.distantPast { return "the watermark has moved" }
        if pendingCount > 0 || linkedCount > 0 || poolUsed > 0 { return "records pending" }
        if touchedCount > 0 || open.contains(where: { !$0.isEmpty }) || windowsClosed > 0 { return "slots or windows open" }
        if closedBefore != Int64.min / 8 || totals.day != Int.min { return "slots closed" }
        return nil
    }

    /// Caches are not state: cold ones give the same results.
    func resetCaches() {
        cachedSlot = (0, 0, 0)
        for li in 0..<windowLens.count {
            cachedWindow[li] = (0, 0, 0)
            recent[li] = nil
        }
        record = ParsedRecord()
        parser.lastStamp.length = -1
    }

    // MARK: Writing

    func writeState<O: CheckpointOutput>(_ o: inout O, fingerprint fp: CheckpointFingerprint) {
        typealias F = EngineCheckpointFormat
        fp.write(&o)

        o.section(F.scalars)
        o.i64(Int64(counts.accepted)); o.i64(Int64(counts.duplicate)); o.i64(Int64(counts.rejected)); o.i64(Int64(counts.late))
        o.i64(watermark); o.i64(maxEventTime); o.i64(Int64(windowsClosed)); o.i64(closedBefore)

        o.section(F.sources)
        o.i64(Int64(sourceNames.count))
        for name in sourceNames {
            let utf8 = Array(name.utf8)
            o.i64(Int64(utf8.count))
            o.array(utf8)
        }

        o.section(F.baselines)
        o.i64(Int64(meterCount))
        o.raw(baseTs, count: meterCount)
        o.raw(baseVal, count: meterCount)

        o.section(F.pending)
        o.i64(Int64(pendingCount))
        if o.counting {
            o.reserve(pendingCount * 32)
        } else {
            var written = 0
            for m in 0..<meterCount {
                var h = pendHead[m]
                while h >= 0 {
                    let it = pool[Int(h)]
                    o.i64(it.key); o.i64(it.start); o.f64(it.value); o.i32(it.meter); o.u32(UInt32(it.kind))
                    written += 1
                    h = it.next
                }
            }
            precondition(written == pendingCount, "pending lists hold \(written) items, pendingCount says \(pendingCount)")
        }

        o.section(F.slots)
        o.i64(Int64(ringSize))
        o.i64(Int64(touchedCount))
        for r in 0..<ringSize where touched[r] {
            o.i64(Int64(r))
            o.raw(cells + r * meterCount, count: meterCount)
        }

        o.section(F.windows)
        o.i64(Int64(windowLens.count))
        for li in 0..<windowLens.count {
            o.i64(Int64(open[li].count))
            for acc in open[li] {
                o.i64(acc.index)
                o.raw(acc.energy, count: profileCount)
                o.raw(acc.co2, count: profileCount)
                o.raw(acc.realtime, count: profileCount)
                o.raw(acc.spans, count: profileCount)
                o.raw(acc.meters, count: profileCount)
                o.raw(acc.seen, count: acc.seenWords)
            }
        }

        o.section(F.factors)
        o.i64(Int64(Region.count))
        for r in 0..<Region.count {
            let fs = factors.factors[r], ms = factors.mixes[r]
            o.i64(Int64(fs.count))
            for f in fs { o.i64(f.start); o.i64(f.end); o.f64(f.value) }
            o.i64(Int64(ms.count))
            for m in ms { o.i64(m.start); o.i64(m.end); o.i64(Int64(m.source.rawValue)); o.f64(m.mwh) }
        }

        o.section(F.totals)
        o.i64(Int64(totals.day)); o.i64(Int64(totals.month)); o.i64(Int64(totals.year))
        o.i64(Int64(profileCount))
        o.array(totals.dayTotals)
        o.array(totals.monthTotals)
        o.array(totals.yearTotals)

        let alertBytes = alertState()
        o.section(F.alerts)
        o.i64(Int64(alertBytes.count))
        o.array(alertBytes)

        o.section(F.end)
    }

    // MARK: Reading

    /// Reads the state; with `apply` false it only checks (every length, index and enum value),
    /// with `apply` true it installs what it reads.
    func readState(_ r: inout CheckpointReader, here: CheckpointFingerprint, apply: Bool) throws {
        typealias F = EngineCheckpointFormat
        let fp = try CheckpointFingerprint.read(&r)
        let diffs = fp.differences(from: here)
        if !diffs.isEmpty { throw CheckpointError.configurationMismatch(diffs.joined(separator: "; ")) }
        // Equal fingerprints mean equal meter and profile counts below.

        try r.section(F.scalars)
        var c = LineCounts()
        c.accepted = Int(try r.i64("accepted")); c.duplicate = Int(try r.i64("duplicate"))
        c.rejected = Int(try r.i64("rejected")); c.late = Int(try r.i64("late"))
        let w = try r.i64("watermark"), maxT = try r.i64("maxEventTime")
        let closed = try r.i64("windowsClosed"), before = try r.i64("closedBefore")
        guard c.accepted >= 0, c.duplicate >= 0, c.rejected >= 0, c.late >= 0, closed >= 0 else { throw r.fail("negative count") }
        if apply {
            counts = c; watermark = w; maxEventTime = maxT; windowsClosed = Int(closed); closedBefore = before
        }

        try r.section(F.sources)
        let ns = try r.count(each: 8, "source names")
        var names: [String] = []
        for i in 0..<ns {
            let len = try r.count(each: 1, "bytes of source name \(i)")
            try r.need(len, "source name \(i)")
            names.append(String(decoding: UnsafeRawBufferPointer(start: r.base + r.at, count: len), as: UTF8.self))
            r.at += len
        }
        if apply { sourceNames = names }

        try r.section(F.baselines)
        guard try r.i64("meter count") == Int64(meterCount) else { throw r.fail("meter count disagrees with the registry section") }
        try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(baseTs) : nil, "baseline timestamps")
        try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(baseVal) : nil, "baseline values")

        try r.section(F.pending)
        let np = try r.count(each: 32, "pending items")
        var lastMeter = -1
        var lastKey = Int64.min
        var tail: Int32 = -1
        for _ in 0..<np {
            let key = try r.i64(), start = try r.i64(), value = try r.f64(), meter = try r.i32(), kind = try r.u32()
            let m = Int(meter)
            guard m >= 0 && m < meterCount else { throw r.fail("pending item for meter \(m) of \(meterCount)") }
            guard kind <= 1 else { throw r.fail("pending item of unknown kind \(kind)") }
            guard m > lastMeter || (m == lastMeter && key >= lastKey) else { throw r.fail("pending items out of order at meter \(m)") }
            guard kind == 1 || start == key else { throw r.fail("register reading with start \(start) != ts \(key)") }
            if apply {
                let slot = allocPending()
                let b = Int(Time.floorDiv(key, Time.microsPerSecond) & bucketMask)
                pool[Int(slot)] = Pending(key: key, start: start, value: value, next: -1, meter: meter, bucketNext: bucketHead[b], kind: UInt8(kind))
                bucketHead[b] = slot
                if m == lastMeter { pool[Int(tail)].next = slot } else { pendHead[m] = slot }
                tail = slot
                pendingCount += 1
                linkedCount += 1
            }
            lastMeter = m
            lastKey = key
        }

        try r.section(F.slots)
        guard try r.i64("ring size") == Int64(ringSize) else { throw r.fail("slot ring size differs from \(ringSize)") }
        let nt = try r.count(each: 8 + meterCount * 8, "touched slots")
        guard nt <= ringSize else { throw r.fail("\(nt) touched slots in a ring of \(ringSize)") }
        var seenRing = [Bool](repeating: false, count: ringSize)
        for _ in 0..<nt {
            let ri = try r.i64("ring index")
            guard ri >= 0 && ri < Int64(ringSize) else { throw r.fail("ring index \(ri) outside 0..<\(ringSize)") }
            let ring = Int(ri)
            guard !seenRing[ring] else { throw r.fail("ring index \(ring) twice") }
            seenRing[ring] = true
            try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(cells + ring * meterCount) : nil, "energy cells of ring slot \(ring)")
            if apply {
                touched[ring] = true
                touchedCount += 1
            }
        }

        try r.section(F.windows)
        guard try r.i64("window length count") == Int64(windowLens.count) else { throw r.fail("window length count differs") }
        let seenWords = max(1, (meterCount + 63) / 64)
        let accBytes = 8 + profileCount * 32 + seenWords * 8
        for li in 0..<windowLens.count {
            let na = try r.count(each: accBytes, "open windows of length \(DurationFormat.format(windowLens[li]))")
            var lastIndex = Int64.min
            for k in 0..<na {
                let index = try r.i64("window index")
                guard k == 0 || index > lastIndex else { throw r.fail("open windows of length \(DurationFormat.format(windowLens[li])) out of order") }
                lastIndex = index
                let acc: WindowAccumulator? = apply ? WindowAccumulator(lengthIndex: li, index: index, profiles: profileCount, meters: meterCount) : nil
                let p8 = profileCount * 8, p4 = profileCount * 4
                try r.raw(p8, into: acc.map { UnsafeMutableRawPointer($0.energy) }, "window energy")
                try r.raw(p8, into: acc.map { UnsafeMutableRawPointer($0.co2) }, "window co2")
                try r.raw(p8, into: acc.map { UnsafeMutableRawPointer($0.realtime) }, "window realtime energy")
                try r.raw(p4, into: acc.map { UnsafeMutableRawPointer($0.spans) }, "window spans")
                try r.raw(p4, into: acc.map { UnsafeMutableRawPointer($0.meters) }, "window meters")
                try r.raw(seenWords * 8, into: acc.map { UnsafeMutableRawPointer($0.seen) }, "window meter set")
                if let acc { open[li].append(acc) }
            }
        }

        try r.section(F.factors)
        guard try r.i64("region count") == Int64(Region.count) else { throw r.fail("region count differs from \(Region.count)") }
        var fss: [[FactorBook.FactorEntry]] = []
        var mss: [[FactorBook.MixEntry]] = []
        for reg in 0..<Region.count {
            let nf = try r.count(each: 24, "factors of \(Region.codes[reg])")
            var fs: [FactorBook.FactorEntry] = []
            fs.reserveCapacity(nf)
            for _ in 0..<nf {
                let s = try r.i64(), e = try r.i64(), v = try r.f64()
                guard e > s else { throw r.fail("factor of \(Region.codes[reg]) with end before start") }
                if let last = fs.last, last.end > s { throw r.fail("factors of \(Region.codes[reg]) overlap or out of order") }
                fs.append(FactorBook.FactorEntry(start: s, end: e, value: v))
            }
            let nm = try r.count(each: 32, "mix records of \(Region.codes[reg])")
            var ms: [FactorBook.MixEntry] = []
            ms.reserveCapacity(nm)
            for _ in 0..<nm {
                let s = try r.i64(), e = try r.i64(), src = try r.i64(), v = try r.f64()
                guard let source = Source(rawValue: Int(truncatingIfNeeded: src)), Int64(source.rawValue) == src else {
                    throw r.fail("mix record of \(Region.codes[reg]) with unknown source \(src)")
                }
                guard e > s else { throw r.fail("mix record of \(Region.codes[reg]) with end before start") }
                ms.append(FactorBook.MixEntry(start: s, end: e, source: source, mwh: v))
            }
            fss.append(fs)
            mss.append(ms)
        }
        if apply {
            factors.factors = fss
            factors.mixes = mss
        }

        try r.section(F.totals)
        let day = try r.i64("day"), month = try r.i64("month"), year = try r.i64("year")
        guard try r.i64("profile count") == Int64(profileCount) else { throw r.fail("profile count disagrees with the registry section") }
        let periodBytes = profileCount * MemoryLayout<RunningTotals.Period>.stride
        try r.need(3 * periodBytes, "running totals")
        if apply {
            totals.day = Int(day); totals.month = Int(month); totals.year = Int(year)
            try totals.dayTotals.withUnsafeMutableBytes { try r.raw(periodBytes, into: $0.baseAddress, "day totals") }
            try totals.monthTotals.withUnsafeMutableBytes { try r.raw(periodBytes, into: $0.baseAddress, "month totals") }
            try totals.yearTotals.withUnsafeMutableBytes { try r.raw(periodBytes, into: $0.baseAddress, "year totals") }
        } else {
            r.at += 3 * periodBytes
        }

        if r.at + 8 <= r.end, r.base.loadUnaligned(fromByteOffset: r.at, as: UInt64.self) == F.alerts {
            try r.section(F.alerts)
            let n = try r.count(each: 1, "alert state bytes")
            var bytes = [UInt8](repeating: 0, count: n)
            try bytes.withUnsafeMutableBytes { try r.raw(n, into: $0.baseAddress, "alert state") }
            do { try restoreAlertState(bytes, apply: apply) } catch { throw r.fail("\(error)") }
        }

        try r.section(F.end)
        guard r.at == r.end else { throw CheckpointError.corrupt("\(r.end - r.at) bytes after the end section") }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
