import GridCarbonModel

/// NDJSON record lines: a flat object with the CSV fields by name,
/// `{"kind":"r","meter":"M1","ts":"2026-11-20T10:15:00+08:00","kwh":1012.5}`.
/// Timestamps may be strings or Unix-second numbers; numbers may be JSON numbers or strings.
/// Unknown keys are ignored, so producers can add their own (a sequence number, a source id).
extension LineParser {
    /// Field slots, in the order of `JSONField`.
    @usableFromInline
    enum JSONField: Int, CaseIterable {
        case kind, meter, region, ts, start, end, kwh, kgPerKWh, source, mwh

        @usableFromInline
        static let names: [[UInt8]] = ["kind", "meter", "region", "ts", "start", "end", "kwh", "kg_per_kwh", "source", "mwh"].map { Array($0.utf8) }

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
        // lo/hi per field, -1 when absent; escaped strings are rejected for the fields we read.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 20) { r -> ParseOutcome in
            for k in 0..<20 { r[k] = -1 }
            let n = l.count
            var i = 1
            @inline(__always) func ws() { while i < n && (l[i] == 0x20 || l[i] == 0x09) { i += 1 } }
            /// Scans a string starting at the quote; returns the content range and whether it has escapes.
            @inline(__always) func string() -> (Int, Int, Bool)? {
                guard i < n, l[i] == 0x22 else { return nil }
                i += 1
                let lo = i
                var esc = false
                while i < n && l[i] != 0x22 {
                    if l[i] == 0x5C { esc = true; i += 1 }
                    else if l[i] < 0x20 { return nil }
                    i += 1
                }
                guard i < n else { return nil }
                let hi = i
                i += 1
                return (lo, hi, esc)
            }
            ws()
            if i < n && l[i] == 0x7D {
                i += 1
            } else {
                while true {
                    ws()
                    guard let (klo, khi, kesc) = string() else { return .rejected(.badJSON) }
                    ws()
                    guard i < n, l[i] == 0x3A else { return .rejected(.badJSON) }
                    i += 1
                    ws()
                    guard i < n else { return .rejected(.badJSON) }
                    var vlo: Int, vhi: Int
                    var bad = false
                    if l[i] == 0x22 {
                        guard let (a, b, e) = string() else { return .rejected(.badJSON) }
                        vlo = a; vhi = b; bad = e
                    } else {
                        vlo = i
                        while i < n, l[i] != 0x2C, l[i] != 0x7D, l[i] != 0x20, l[i] != 0x09 {
                            let c = l[i]
                            // Numbers and the literals true/false/null only: no nested values.
                            if c == 0x7B || c == 0x5B || c == 0x22 { return .rejected(.badJSON) }
                            i += 1
                        }
                        vhi = i
                        if vhi == vlo { return .rejected(.badJSON) }
                    }
                    if !kesc, let f = JSONField.match(UnsafeRawBufferPointer(rebasing: l[klo..<khi])) {
                        if bad { vlo = -2; vhi = -2 }
                        r[f.rawValue * 2] = vlo
                        r[f.rawValue * 2 + 1] = vhi
                    }
                    ws()
                    guard i < n else { return .rejected(.badJSON) }
                    if l[i] == 0x2C { i += 1; continue }
                    if l[i] == 0x7D { i += 1; break }
                    return .rejected(.badJSON)
                }
            }
            ws()
            guard i == n else { return .rejected(.badJSON) }
            @inline(__always) func has(_ f: JSONField) -> Bool { r[f.rawValue * 2] != -1 }
            @inline(__always) func value(_ f: JSONField) -> UnsafeRawBufferPointer {
                let lo = r[f.rawValue * 2], hi = r[f.rawValue * 2 + 1]
                if lo < 0 { return UnsafeRawBufferPointer(rebasing: l[0..<0]) }
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
            }
        }
    }
}
