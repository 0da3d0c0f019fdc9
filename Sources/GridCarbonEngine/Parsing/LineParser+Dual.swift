import GridCarbonModel

/// The key (`o` key, `c` enterprise) and unit (`o`) of the last `o` or `c` record parsed.
///
/// A class so that ``LineParser`` stays a `let` and ``ParsedRecord`` a plain value: these records
/// are rare, and copying their names out (an allocation) costs nothing on the meter-record path.
public final class DualNames: @unchecked Sendable {
    public var key: String = ""
    public var unit: String = ""
    init() {}
}

// The dual-control records of reference §9.1: `x`, `o`, `c`.
extension LineParser {
    /// `x,from,to,start,end,mwh`. `from` equal to `to` is `bad_region`.
    @inlinable
    func exchange(from: UnsafeRawBufferPointer, to: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, mwh: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard let a = Region.index(bytes: from), a != Region.national,
              let b = Region.index(bytes: to), b != Region.national, a != b else { return .rejected(.badRegion) }
        guard let t0 = lastStamp.parse(start), let t1 = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(mwh), v < Self.maxValue else { return .rejected(.badNumber) }
        guard t1 > t0 else { return .rejected(.badInterval) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        out.kind = .exchange; out.region = Int32(a); out.region2 = Int32(b); out.t0 = t0; out.t1 = t1; out.value = v
        return .record
    }

    /// `o,level,key,start,end,value,unit`. Levels `national` … `industry` (not `meter`); a negative
    /// value is `bad_number`.
    @inlinable
    func output(level: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, unit: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard let lv = Level.parse(level), lv != .meter else { return .rejected(.badLevel) }
        guard Identifier.isValid(key) else { return .rejected(.badKey) }
        switch lv {
        case .national: guard Region.index(bytes: key) == Region.national else { return .rejected(.badKey) }
        case .province: guard let r = Region.index(bytes: key), r != Region.national else { return .rejected(.badKey) }
        default: break
        }
        guard let t0 = lastStamp.parse(start), let t1 = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(value), v < Self.maxValue, v >= 0 else { return .rejected(.badNumber) }
        guard t1 > t0 else { return .rejected(.badInterval) }
        guard Identifier.isValid(unit) else { return .rejected(.badUnit) }
        out.kind = .output; out.aux = UInt8(lv.rawValue); out.t0 = t0; out.t1 = t1; out.value = v
        names.key = String(decoding: key, as: UTF8.self)
        names.unit = String(decoding: unit, as: UTF8.self)
        return .record
    }

    /// `c,enterprise,start,end,mwh,instrument`; instrument `gpt` or `gec`.
    @inlinable
    func contract(enterprise: UnsafeRawBufferPointer, start: UnsafeRawBufferPointer, end: UnsafeRawBufferPointer, mwh: UnsafeRawBufferPointer, instrument: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        guard Identifier.isValid(enterprise) else { return .rejected(.badKey) }
        guard let t0 = lastStamp.parse(start), let t1 = ByteParsing.timestamp(end) else { return .rejected(.badTimestamp) }
        guard let v = ByteParsing.number(mwh), v < Self.maxValue else { return .rejected(.badNumber) }
        guard t1 > t0 else { return .rejected(.badInterval) }
        guard v >= 0 else { return .rejected(.negativeEnergy) }
        guard let ins = Instrument.parse(instrument) else { return .rejected(.badInstrument) }
        out.kind = .contract; out.aux = UInt8(ins.rawValue); out.t0 = t0; out.t1 = t1; out.value = v
        names.key = String(decoding: enterprise, as: UTF8.self)
        names.unit = ""
        return .record
    }
}
