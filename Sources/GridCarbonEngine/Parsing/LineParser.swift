import GridCarbonModel

/// The kinds of record lines (§2.2).
public enum RecordKind: UInt8, Sendable {
    /// `r,meter,ts,kwh`: cumulative register reading.
    case register = 0x72
    /// `i,meter,start,end,kwh`: interval energy.
    case interval = 0x69
    /// `f,region,start,end,kg_per_kwh`: real-time emission factor.
    case factor = 0x66
    /// `m,region,start,end,source,mwh`: generation by source.
    case mix = 0x6D
    /// `x,from,to,start,end,mwh`: physical exchange between provinces (reference §9.1).
    case exchange = 0x78
    /// `o,level,key,start,end,value,unit`: economic output of a key (reference §9.1).
    case output = 0x6F
    /// `c,enterprise,start,end,mwh,instrument`: contracted non-fossil electricity (reference §9.1).
    case contract = 0x63
}

/// One parsed record line; a plain value, filled in place, so parsing allocates nothing.
public struct ParsedRecord: Sendable {
    public var kind: RecordKind = .register
    /// Meter index (`r`, `i`).
    public var meter: Int32 = -1
    /// Region index (`f`, `m`; `from` of `x`).
    public var region: Int32 = -1
    /// `to` of `x`.
    public var region2: Int32 = -1
    /// `ts` for `r`, `start` for the others.
    public var t0: Micros = 0
    /// `end` (`i`, `f`, `m`); equal to `t0` for `r`.
    public var t1: Micros = 0
    /// kWh, kg/kWh or MWh.
    public var value: Double = 0
    /// Generation source (`m`).
    public var source: Source = .other
    /// Level (`o`, ``Level`` raw value) or instrument (`c`, ``Instrument`` raw value).
    public var aux: UInt8 = 0

    public init() {}
}

/// The outcome of parsing one line.
public enum ParseOutcome: Sendable {
    case record
    case skip
    case rejected(RejectReason)
}

/// Parses record lines, CSV or NDJSON, straight from bytes (§2.2).
public struct LineParser: Sendable {
    @usableFromInline let meters: MeterIndex
    /// The last timestamp field parsed and its value: a feed's lines mostly share their timestamps,
    /// and comparing 25 bytes is cheaper than parsing them.
    @usableFromInline let lastStamp: TimestampCache
    /// The meters this engine keeps (§8; set with its role): an id not found that belongs to
    /// another partition is `misrouted`, not `unknown_meter`. Read on a miss only.
    @usableFromInline let scope: ScopeBox
    /// The key and unit of the last `o` or `c` record parsed (kept outside ``ParsedRecord`` so that
    /// it stays a plain value).
    public let names: DualNames

    /// Quantities (`kwh`, `mwh`) of this size or more are `bad_number` (reference §2.2): far beyond
    /// any meter, and kept well inside the range of the exact sums (``ExactSum``), which would
    /// otherwise overflow.
    public static let maxValue: Double = 1e15

    public init(registry: Registry) {
        meters = registry.index ?? Registry(meterLevel: false).index!
        lastStamp = TimestampCache()
        scope = ScopeBox()
        names = DualNames()
    }

    /// Parses `line` (without its newline) into `out`.
    @inlinable
    public func parse(_ line: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        var n = line.count
        while n > 0 && (line[n - 1] == 0x0D || line[n - 1] == 0x20 || line[n - 1] == 0x09) { n -= 1 }
        var s = 0
        while s < n && (line[s] == 0x20 || line[s] == 0x09) { s += 1 }
        if s == n { return .skip }
        let l = UnsafeRawBufferPointer(rebasing: line[s..<n])
        switch l[0] {
        case 0x23: return .skip
        case 0x7B: return parseJSON(l, into: &out)
        default: return parseCSV(l, into: &out)
        }
    }

    @inlinable
    func parseCSV(_ l: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard l.count >= 2, l[1] == 0x2C, let kind = RecordKind(rawValue: l[0]) else { return .rejected(.badKind) }
        let want: Int
        switch kind {
        case .register: want = 3
        case .interval, .factor: want = 4
        case .mix, .exchange, .contract: want = 5
        case .output: want = 6
        }
        // Field boundaries: c[k] is the index of the comma after field k (n for the last field).
        // Commas are found eight bytes at a time (SWAR): lines are short and this runs per line.
        let n = l.count
        var c0 = n, c1 = n, c2 = n, c3 = n, c4 = n
        var count = 1
        @inline(__always) func comma(_ i: Int) -> Bool {
            switch count {
            case 1: c0 = i
            case 2: c1 = i
            case 3: c2 = i
            case 4: c3 = i
            default: c4 = i
            }
            count += 1
            return count <= want
        }
        var i = 2
        while i + 8 <= n {
            let w = l.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ 0x2C2C_2C2C_2C2C_2C2C
            // Exact per byte (no borrow between bytes): the high bit is set where the byte was a comma.
            var hits = ~(((w & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | w | 0x7F7F_7F7F_7F7F_7F7F)
            while hits != 0 {
                let at = i + hits.trailingZeroBitCount >> 3
                if !comma(at) { return .rejected(.badFieldCount) }
                hits &= hits &- 1
            }
            i += 8
        }
        while i < n {
            if l[i] == 0x2C && !comma(i) { return .rejected(.badFieldCount) }
            i += 1
        }
        guard count == want else { return .rejected(.badFieldCount) }
        @inline(__always) func field(_ lo: Int, _ hi: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: l[lo..<hi])
        }
        switch kind {
        case .register:
            return register(id: field(2, c0), ts: field(c0 + 1, c1), kwh: field(c1 + 1, n), into: &out)
        case .interval:
            return interval(id: field(2, c0), start: field(c0 + 1, c1), end: field(c1 + 1, c2), kwh: field(c2 + 1, n), into: &out)
        case .factor:
            return factor(region: field(2, c0), start: field(c0 + 1, c1), end: field(c1 + 1, c2), value: field(c2 + 1, n), into: &out)
        case .mix:
            _ = c4
            return mix(region: field(2, c0), start: field(c0 + 1, c1), end: field(c1 + 1, c2), source: field(c2 + 1, c3), mwh: field(c3 + 1, n), into: &out)
        case .exchange:
            return exchange(from: field(2, c0), to: field(c0 + 1, c1), start: field(c1 + 1, c2), end: field(c2 + 1, c3), mwh: field(c3 + 1, n), into: &out)
        case .output:
            return output(level: field(2, c0), key: field(c0 + 1, c1), start: field(c1 + 1, c2), end: field(c2 + 1, c3), value: field(c3 + 1, c4), unit: field(c4 + 1, n), into: &out)
        case .contract:
            return contract(enterprise: field(2, c0), start: field(c0 + 1, c1), end: field(c1 + 1, c2), mwh: field(c2 + 1, c3), instrument: field(c3 + 1, n), into: &out)
        }
    }

    /// The meter index, or the negated raw value of the reject reason.
    @inlinable
    func meterIndex(_ id: UnsafeRawBufferPointer, after previous: Int32) -> Int32 {
        guard Identifier.isValid(id) else { return -Int32(RejectReason.badMeterID.rawValue) }
        guard let m = meters.lookup(id, after: Int(previous)) else {
            return -Int32((scope.value.keeps(id) ? RejectReason.unknownMeter : .misrouted).rawValue)
        }
        return Int32(m)
    }

    @inlinable
    func register(id: UnsafeRawBufferPointer, ts: UnsafeRawBufferPointer, kwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        let m = meterIndex(id, after: out.meter)
        if m < 0 { return .rejected(RejectReason(rawValue: UInt8(-m))!) }
        guard let t = lastStamp.parse(ts) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(kwh), v < Self.maxValue else { return .rejected(.badNumber) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .register; out.meter = m; out.t0 = t; out.t1 = t; out.value = v
        return .record
    }

    @inlinable
    func interval(id: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, kwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        let m = meterIndex(id, after: out.meter)
        if m < 0 { return .rejected(RejectReason(rawValue: UInt8(-m))!) }
        guard let a = lastStamp.parse(start), let b = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(kwh), v < Self.maxValue else { return .rejected(.badNumber) }
        guard b > a else { return .rejected(.badInterval) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .interval; out.meter = m; out.t0 = a; out.t1 = b; out.value = v
        return .record
    }

    @inlinable
    func factor(region: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard let r = Region.index(bytes: region), r != Region.national else { return .rejected(.badRegion) }
        guard let a = lastStamp.parse(start), let b = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(value) else { return .rejected(.badNumber) }
        guard b > a else { return .rejected(.badInterval) }
        guard v >= 0 && v <= 10 else { return .rejected(.badFactor) }
        out.kind = .factor; out.region = Int32(r); out.t0 = a; out.t1 = b; out.value = v
        return .record
    }

    @inlinable
    func mix(region: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, mwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard let r = Region.index(bytes: region), r != Region.national else { return .rejected(.badRegion) }
        guard let a = lastStamp.parse(start), let b = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let s = Source.parse(source) else { return .rejected(.badSource) }
        guard let v = ByteParsing.number(mwh), v < Self.maxValue else { return .rejected(.badNumber) }
        guard b > a else { return .rejected(.badInterval) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .mix; out.region = Int32(r); out.t0 = a; out.t1 = b; out.value = v; out.source = s
        return .record
    }
}

/// A one-entry cache of the last timestamp field parsed.
///
/// Its state is behind pointers, not in stored `var`s: a class's stored properties cost a dynamic
/// exclusivity check on every access in a release build, and this is read for every record.
public final class TimestampCache: @unchecked Sendable {
    @usableFromInline let bytes: UnsafeMutableRawPointer
    @usableFromInline let state: UnsafeMutablePointer<(length: Int, value: Micros)>

    /// Length of the cached field (-1: nothing cached).
    @inlinable public var length: Int {
        get { state.pointee.length }
        set { state.pointee.length = newValue }
    }

    @inlinable var value: Micros {
        get { state.pointee.value }
        set { state.pointee.value = newValue }
    }

    public init() {
        bytes = .allocate(byteCount: 40, alignment: 8)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: 40)
        state = .allocate(capacity: 1)
        state.initialize(to: (-1, 0))
    }

    deinit {
        bytes.deallocate()
        state.deallocate()
    }

    /// Parses like ``ByteParsing/timestamp(_:)``, reusing the last result when the bytes repeat.
    @inlinable
    public func parse(_ p: UnsafeRawBufferPointer) -> Micros? {
        let n = p.count
        if n == length && n >= 8 {
            // Compare eight bytes at a time; the last word overlaps the one before it.
            var i = 0
            var same = true
            while i + 8 < n {
                if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) != p.loadUnaligned(fromByteOffset: i, as: UInt64.self) { same = false; break }
                i += 8
            }
            if same && bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) {
                return value
            }
        }
        guard let v = ByteParsing.timestamp(p) else { return nil }
        if n <= 40 {
            bytes.copyMemory(from: p.baseAddress!, byteCount: n)
            length = n
            value = v
        }
        return v
    }
}

/// The parser's meter scope, set once with the engine's role (a class, so the parser stays a `let`).
public final class ScopeBox: @unchecked Sendable {
    @usableFromInline var value: MeterScope = .all
    init() {}
}
