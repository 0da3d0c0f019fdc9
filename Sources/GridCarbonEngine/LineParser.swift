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
}

/// One parsed record line; a plain value, filled in place, so parsing allocates nothing.
public struct ParsedRecord: Sendable {
    public var kind: RecordKind = .register
    /// Meter index (`r`, `i`).
    public var meter: Int32 = -1
    /// Region index (`f`, `m`).
    public var region: Int32 = -1
    /// `ts` for `r`, `start` for the others.
    public var t0: Micros = 0
    /// `end` (`i`, `f`, `m`); equal to `t0` for `r`.
    public var t1: Micros = 0
    /// kWh, kg/kWh or MWh.
    public var value: Double = 0
    /// Generation source (`m`).
    public var source: Source = .other

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
    public var registry: Registry

    public init(registry: Registry) {
        self.registry = registry
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
        case .mix: want = 5
        }
        // Field boundaries on the stack: starts[k] is the first byte of field k (after the kind).
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 6) { starts -> ParseOutcome in
            let n = l.count
            starts[0] = 2
            var count = 1
            var i = 2
            while i < n {
                if l[i] == 0x2C {
                    if count == want { return .rejected(.badFieldCount) }
                    starts[count] = i + 1
                    count += 1
                }
                i += 1
            }
            guard count == want else { return .rejected(.badFieldCount) }
            starts[count] = n + 1
            @inline(__always) func field(_ k: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: l[starts[k]..<(starts[k + 1] - 1)])
            }
            switch kind {
            case .register:
                return register(id: field(0), ts: field(1), kwh: field(2), into: &out)
            case .interval:
                return interval(id: field(0), start: field(1), end: field(2), kwh: field(3), into: &out)
            case .factor:
                return factor(region: field(0), start: field(1), end: field(2), value: field(3), into: &out)
            case .mix:
                return mix(region: field(0), start: field(1), end: field(2), source: field(3), mwh: field(4), into: &out)
            }
        }
    }

    @inlinable
    /// The meter index, or the negated raw value of the reject reason.
    func meterIndex(_ id: UnsafeRawBufferPointer) -> Int32 {
        guard Identifier.isValid(id) else { return -Int32(RejectReason.badMeterID.rawValue) }
        guard let m = registry.lookup(id) else { return -Int32(RejectReason.unknownMeter.rawValue) }
        return Int32(m)
    }

    @inlinable
    func register(id: UnsafeRawBufferPointer, ts: UnsafeRawBufferPointer, kwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        let m = meterIndex(id)
        if m < 0 { return .rejected(RejectReason(rawValue: UInt8(-m))!) }
        guard let t = ByteParsing.timestamp(ts) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(kwh) else { return .rejected(.badNumber) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .register; out.meter = m; out.t0 = t; out.t1 = t; out.value = v
        return .record
    }

    @inlinable
    func interval(id: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, kwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        let m = meterIndex(id)
        if m < 0 { return .rejected(RejectReason(rawValue: UInt8(-m))!) }
        guard let a = ByteParsing.timestamp(start), let b = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(kwh) else { return .rejected(.badNumber) }
        guard b > a else { return .rejected(.badInterval) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .interval; out.meter = m; out.t0 = a; out.t1 = b; out.value = v
        return .record
    }

    @inlinable
    func factor(region: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard let r = Region.index(bytes: region), r != Region.national else { return .rejected(.badRegion) }
        guard let a = ByteParsing.timestamp(start), let b = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(value) else { return .rejected(.badNumber) }
        guard b > a else { return .rejected(.badInterval) }
        guard v >= 0 && v <= 10 else { return .rejected(.badFactor) }
        out.kind = .factor; out.region = Int32(r); out.t0 = a; out.t1 = b; out.value = v
        return .record
    }

    @inlinable
    func mix(region: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, mwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard let r = Region.index(bytes: region), r != Region.national else { return .rejected(.badRegion) }
        guard let a = ByteParsing.timestamp(start), let b = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let s = Source.parse(source) else { return .rejected(.badSource) }
        guard let v = ByteParsing.number(mwh) else { return .rejected(.badNumber) }
        guard b > a else { return .rejected(.badInterval) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .mix; out.region = Int32(r); out.t0 = a; out.t1 = b; out.value = v; out.source = s
        return .record
    }
}
