import GridCarbonModel

/// NDJSON record lines: a flat object with the CSV fields by name,
/// `{"kind":"r","meter":"M1","ts":"2026-11-20T10:15:00+08:00","kwh":1012.5}`.
/// Timestamps may be strings or Unix-second numbers; numbers may be JSON numbers or strings.
/// Unknown keys are ignored whatever they hold (nested objects and arrays too), so producers can add
/// their own (a sequence number, a source id, a block of metadata). Strings may use any JSON escape
/// (`"A\u0041"` is `AA`); a line that is not valid JSON is `bad_json` (reference §2.2).
extension LineParser {
    /// Field slots, in the order of `JSONField`.
    @usableFromInline
    enum JSONField: Int, CaseIterable {
        case kind, meter, region, ts, start, end, kwh, kgPerKWh, source, mwh
        // reference §9.1
        case from, to, level, key, value, unit, enterprise, instrument

        @usableFromInline
        static let names: [[UInt8]] = ["kind", "meter", "region", "ts", "start", "end", "kwh", "kg_per_kwh", "source", "mwh",
                                                     "from", "to", "level", "key", "value", "unit", "enterprise", "instrument"].map { Array($0.utf8) }

        @inlinable
        static func match(_ key: UnsafeRawBufferPointer) -> JSONField? {
            for f in allCases {
                let name = names[f.rawValue]
                if name.count == key.count && name.withUnsafeBytes({ $0.elementsEqual(key) }) { return f }
            }
            return nil
        }
    }

    @inlinable
    func parseJSON(_ l: UnsafeRawBufferPointer, into out: inout ParsedRecord) -> ParseOutcome {
        // lo/hi per field, -1 when absent, -3 for an object or array; a range at or past `n` is in `scratch` (a string whose
        // escapes were decoded there, reference §2.2: `"A\u0041"` is `AA`).
        let n = l.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 36) { r -> ParseOutcome in   // 2 × the 18 fields
          withUnsafeTemporaryAllocation(byteCount: n, alignment: 1) { scratch -> ParseOutcome in
            for k in 0..<r.count { r[k] = -1 }
            var used = 0
            var c = JSONCursor(l, at: 1)
            c.ws()
            if c.byte == 0x7D {
                c.i += 1
            } else {
                while true {
                    c.ws()
                    guard let key = c.string() else { return .rejected(.badJSON) }
                    c.ws()
                    guard c.byte == 0x3A else { return .rejected(.badJSON) }
                    c.i += 1
                    c.ws()
                    var field: JSONField?
                    if key.escaped {
                        let k = JSONCursor.unescape(UnsafeRawBufferPointer(rebasing: l[key.lo..<key.hi]), into: scratch.baseAddress! + used)
                        field = JSONField.match(UnsafeRawBufferPointer(start: scratch.baseAddress! + used, count: k))
                    } else {
                        field = JSONField.match(UnsafeRawBufferPointer(rebasing: l[key.lo..<key.hi]))
                    }
                    let vlo: Int, vhi: Int
                    switch c.byte {
                    case 0x22:
                        guard let v = c.string() else { return .rejected(.badJSON) }
                        if v.escaped && field != nil {
                            let k = JSONCursor.unescape(UnsafeRawBufferPointer(rebasing: l[v.lo..<v.hi]), into: scratch.baseAddress! + used)
                            vlo = n + used; vhi = n + used + k
                            used += k
                        } else {
                            vlo = v.lo; vhi = v.hi
                        }
                    case 0x7B, 0x5B:
                        // A nested value: ignored under an unknown key, never a record field
                        // (-3; a later repeat of the key replaces it, as in any JSON reader).
                        guard c.skipValue() else { return .rejected(.badJSON) }
                        vlo = -3; vhi = -3
                    default:
                        guard let v = c.scalar() else { return .rejected(.badJSON) }
                        vlo = v.lo; vhi = v.hi
                    }
                    if let f = field {
                        r[f.rawValue * 2] = vlo
                        r[f.rawValue * 2 + 1] = vhi
                    }
                    c.ws()
                    if c.byte == 0x2C { c.i += 1; continue }
                    if c.byte == 0x7D { c.i += 1; break }
                    return .rejected(.badJSON)
                }
            }
            c.ws()
            guard c.atEnd else { return .rejected(.badJSON) }
            // The fields of §2.2 may never hold an object or array; those of §9.1 only in the records
            // that use them (elsewhere they are unknown keys, ignored as before).
            for k in stride(from: 0, to: 2 * JSONField.from.rawValue, by: 2) where r[k] == -3 { return .rejected(.badJSON) }
            @inline(__always) func nested(_ fs: JSONField...) -> Bool { fs.contains { r[$0.rawValue * 2] == -3 } }
            @inline(__always) func has(_ f: JSONField) -> Bool { r[f.rawValue * 2] != -1 }
            @inline(__always) func value(_ f: JSONField) -> UnsafeRawBufferPointer {
                let lo = r[f.rawValue * 2], hi = r[f.rawValue * 2 + 1]
                if lo < 0 { return UnsafeRawBufferPointer(rebasing: l[0..<0]) }
                if lo >= n { return UnsafeRawBufferPointer(start: scratch.baseAddress! + (lo - n), count: hi - lo) }
                return UnsafeRawBufferPointer(rebasing: l[lo..<hi])
            }
            guard has(.kind) else { return .rejected(.badKind) }
            let k = value(.kind)
            guard k.count == 1, let kind = RecordKind(rawValue: k[0]) else { return .rejected(.badKind) }
            switch kind {
            case .register:
                guard has(.meter), has(.ts), has(.kwh) else { return .rejected(.badFieldCount) }
                return register(id: value(.meter), ts: value(.ts), kwh: value(.kwh), into: &out)
            case .interval:
                guard has(.meter), has(.start), has(.end), has(.kwh) else { return .rejected(.badFieldCount) }
                return interval(id: value(.meter), start: value(.start), end: value(.end), kwh: value(.kwh), into: &out)
            case .factor:
                guard has(.region), has(.start), has(.end), has(.kgPerKWh) else { return .rejected(.badFieldCount) }
                return factor(region: value(.region), start: value(.start), end: value(.end), value: value(.kgPerKWh), into: &out)
            case .mix:
                guard has(.region), has(.start), has(.end), has(.source), has(.mwh) else { return .rejected(.badFieldCount) }
                return mix(region: value(.region), start: value(.start), end: value(.end), source: value(.source), mwh: value(.mwh), into: &out)
            case .exchange:
                if nested(.from, .to) { return .rejected(.badJSON) }
                guard has(.from), has(.to), has(.start), has(.end), has(.mwh) else { return .rejected(.badFieldCount) }
                return exchange(from: value(.from), to: value(.to), start: value(.start), end: value(.end), mwh: value(.mwh), into: &out)
            case .output:
                if nested(.level, .key, .value, .unit) { return .rejected(.badJSON) }
                guard has(.level), has(.key), has(.start), has(.end), has(.value), has(.unit) else { return .rejected(.badFieldCount) }
                return output(level: value(.level), key: value(.key), start: value(.start), end: value(.end), value: value(.value), unit: value(.unit), into: &out)
            case .contract:
                if nested(.enterprise, .instrument) { return .rejected(.badJSON) }
                guard has(.enterprise), has(.start), has(.end), has(.mwh), has(.instrument) else { return .rejected(.badFieldCount) }
                return contract(enterprise: value(.enterprise), start: value(.start), end: value(.end), mwh: value(.mwh), instrument: value(.instrument), into: &out)
            }
          }
        }
    }
}
