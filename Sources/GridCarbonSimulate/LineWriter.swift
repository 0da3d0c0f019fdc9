import GridCarbonModel

/// Formats record lines straight into raw memory and hands full chunks to a sink: no `String`,
/// no `Foundation`, no per-line allocation. A value type held in a local variable, so its
/// mutating methods carry no exclusivity checks.
struct LineWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private(set) var n = 0
    private let flushAt: Int
    private let sink: (UnsafeRawBufferPointer) throws -> Void
    /// `"00"`…`"99"`.
    private let pairs: UnsafeMutablePointer<UInt8>
    /// `YYYY-MM-DDT` of the cached local and UTC days.
    private let localPrefix: UnsafeMutablePointer<UInt8>
    private let utcPrefix: UnsafeMutablePointer<UInt8>
    private var localDay: Int64 = .min
    private var utcDay: Int64 = .min
    /// `+08:00`.
    private let suffix: UnsafeMutablePointer<UInt8>
    private let suffixCount: Int
    private let offset: Int64
    /// Lines ended so far.
    private(set) var lines = 0
    /// Bytes handed to the sink so far.
    private(set) var bytesOut = 0

    static let chunk = 1 << 20
    /// Longest line the generator writes is well under this.
    static let slack = 4096

    init(zone: Zone, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        base = .allocate(capacity: Self.chunk + Self.slack)
        flushAt = Self.chunk
        self.sink = sink
        pairs = .allocate(capacity: 200)
        for i in 0..<100 {
            pairs[2 * i] = UInt8(0x30 + i / 10)
            pairs[2 * i + 1] = UInt8(0x30 + i % 10)
        }
        localPrefix = .allocate(capacity: 16)
        utcPrefix = .allocate(capacity: 16)
        let s = Array(zone.offsetSuffix.utf8)
        suffix = .allocate(capacity: s.count)
        suffix.initialize(from: s, count: s.count)
        suffixCount = s.count
        offset = Int64(zone.offsetSeconds)
    }

    /// Frees the buffers (call once, after the last ``flush()``).
    func free() {
        base.deallocate(); pairs.deallocate(); localPrefix.deallocate(); utcPrefix.deallocate(); suffix.deallocate()
    }

    @inline(__always)
    mutating func put(_ b: UInt8) {
        base[n] = b
        n &+= 1
    }

    @inline(__always)
    mutating func put(_ s: StaticString) {
        (base + n).update(from: s.utf8Start, count: s.utf8CodeUnitCount)
        n &+= s.utf8CodeUnitCount
    }

    @inline(__always)
    mutating func put(_ p: UnsafePointer<UInt8>, _ count: Int) {
        let dst = UnsafeMutableRawPointer(base + n)
        let src = UnsafeRawPointer(p)
        // Ids, dates and offsets are 4–16 bytes: two overlapping word copies beat a memmove call.
        if count >= 8 && count <= 16 {
            dst.storeBytes(of: src.loadUnaligned(as: UInt64.self), as: UInt64.self)
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self), toByteOffset: count &- 8, as: UInt64.self)
        } else if count >= 4 && count < 8 {
            dst.storeBytes(of: src.loadUnaligned(as: UInt32.self), as: UInt32.self)
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self), toByteOffset: count &- 4, as: UInt32.self)
        } else {
            (base + n).update(from: p, count: count)
        }
        n &+= count
    }

    /// Two digits, `0 <= v < 100`.
    @inline(__always)
    mutating func two(_ v: Int) {
        base[n] = pairs[2 &* v]
        base[n &+ 1] = pairs[2 &* v &+ 1]
        n &+= 2
    }

    /// A non-negative integer in decimal.
    @inline(__always)
    mutating func uint(_ v: UInt64) {
        var d = 1
        var p10: UInt64 = 10
        while d < 20 && v >= p10 { d &+= 1; p10 = p10 &* 10 }
        var p = base + n + d
        n &+= d
        var v = v
        while v >= 100 {
            let r = Int(v % 100)
            v /= 100
            p -= 2
            p[0] = pairs[2 &* r]
            p[1] = pairs[2 &* r &+ 1]
        }
        if v >= 10 {
            p -= 2
            p[0] = pairs[2 &* Int(v)]
            p[1] = pairs[2 &* Int(v) &+ 1]
        } else {
            p -= 1
            p[0] = UInt8(truncatingIfNeeded: 0x30 &+ v)
        }
    }

    /// `v / 10^decimals` with exactly `decimals` (1, 2 or 4) digits after the point; `v >= 0`.
    @inline(__always)
    mutating func fixed(_ v: Int64, decimals: Int) {
        switch decimals {
        case 1:
            uint(UInt64(v / 10)); put(0x2E); put(UInt8(truncatingIfNeeded: 0x30 &+ v % 10))
        case 2:
            uint(UInt64(v / 100)); put(0x2E); two(Int(v % 100))
        default:
            let r = Int(v % 10_000)
            uint(UInt64(v / 10_000)); put(0x2E); two(r / 100); two(r % 100)
        }
    }

    /// Timestamp spellings (§1).
    enum Style: UInt8 {
        /// `2026-11-20T10:15:00+08:00` (the zone's offset).
        case local = 0
        /// `1763604900`.
        case unix = 1
        /// `2026-11-20T02:15:00Z`.
        case utc = 2
    }

    /// The instant `t` (whole seconds since the epoch, after 1970) in a style; `seconds: false`
    /// drops `:SS` and `offset: false` drops the offset (both only for malformed lines).
    @inline(__always)
    mutating func time(_ t: Int64, style: UInt8, seconds: Bool = true, offset withOffset: Bool = true) {
        if style == Style.unix.rawValue {
            uint(UInt64(t))
            return
        }
        let utc = style == Style.utc.rawValue
        let local = utc ? t : t &+ offset
        let day = local / 86_400
        let sod = Int(local &- day &* 86_400)
        if utc {
            if day != utcDay { Self.fillPrefix(utcPrefix, day: day); utcDay = day }
            put(utcPrefix, 11)
        } else {
            if day != localDay { Self.fillPrefix(localPrefix, day: day); localDay = day }
            put(localPrefix, 11)
        }
        two(sod / 3600)
        put(0x3A)
        two(sod / 60 % 60)
        if seconds {
            put(0x3A)
            two(sod % 60)
        }
        if withOffset {
            if utc { put(0x5A) } else { put(suffix, suffixCount) }
        }
    }

    private static func fillPrefix(_ p: UnsafeMutablePointer<UInt8>, day: Int64) {
        let (y, m, d) = Time.civilFromDays(Int(day))
        p[0] = UInt8(0x30 + y / 1000 % 10); p[1] = UInt8(0x30 + y / 100 % 10)
        p[2] = UInt8(0x30 + y / 10 % 10); p[3] = UInt8(0x30 + y % 10)
        p[4] = 0x2D
        p[5] = UInt8(0x30 + m / 10); p[6] = UInt8(0x30 + m % 10)
        p[7] = 0x2D
        p[8] = UInt8(0x30 + d / 10); p[9] = UInt8(0x30 + d % 10)
        p[10] = 0x54
    }

    /// Ends the line; hands the buffer on once a chunk is full.
    @inline(__always)
    mutating func endLine() throws {
        put(0x0A)
        lines &+= 1
        if n >= flushAt { try flush() }
    }

    mutating func flush() throws {
        if n == 0 { return }
        try sink(UnsafeRawBufferPointer(start: base, count: n))
        bytesOut += n
        n = 0
    }
}
