import GridCarbonModel

/// The aggregate file format of §4.1.
public enum AggregateCSV {
    public static let header = "window_start,window_end,level,key,energy_kwh,co2_kg,intensity_kg_per_kwh,meters,spans,realtime_share\n"

    /// Renders a closed window as CSV bytes (header included).
    public static func render(_ w: ClosedWindow, registry: Registry, formatter: TimeFormatter) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + w.rows.count * 110)
        out.append(contentsOf: header.utf8)
        var prefix: [UInt8] = []
        formatter.append(w.start, to: &prefix)
        prefix.append(0x2C)
        formatter.append(w.end, to: &prefix)
        prefix.append(0x2C)
        let levelNames = Level.allCases.map { Array($0.name.utf8) }
        let keyBytes = registry.keyNames
        for row in w.rows {
            out.append(contentsOf: prefix)
            out.append(contentsOf: levelNames[row.level.rawValue])
            out.append(0x2C)
            out.append(contentsOf: keyBytes[row.level.rawValue][Int(row.key)].utf8)
            out.append(0x2C)
            NumberFormat.append(row.energy, to: &out)
            out.append(0x2C)
            NumberFormat.append(row.co2, to: &out)
            out.append(0x2C)
            if row.energy != 0 { NumberFormat.append(row.co2 / row.energy, to: &out) }
            out.append(0x2C)
            NumberFormat.appendInt(Int(row.meters), &out)
            out.append(0x2C)
            NumberFormat.appendInt(Int(row.spans), &out)
            out.append(0x2C)
            if row.energy != 0 { NumberFormat.append(row.realtimeEnergy / row.energy, to: &out) }
            out.append(0x0A)
        }
        return out
    }

    /// `aggregates/window=<len>/date=<YYYY-MM-DD>/<HHMM>.csv.zst`, in local time.
    public static func relativePath(_ w: ClosedWindow, zone: Zone) -> String {
        let local = w.start + zone.offsetMicros
        let day = Int(Time.floorDiv(local, Time.microsPerDay))
        let minutes = Int((local - Int64(day) * Time.microsPerDay) / Time.microsPerMinute)
        let hh = minutes / 60, mm = minutes % 60
        let hhmm = (hh < 10 ? "0" : "") + String(hh) + (mm < 10 ? "0" : "") + String(mm)
        return "aggregates/window=\(DurationFormat.format(w.length))/date=\(TimeFormatter.dateString(localDay: day))/\(hhmm).csv.zst"
    }
}

/// Minimal JSON writing into bytes for side outputs and API answers.
public enum JSONBytes {
    /// Appends `s` as a JSON string (quoted, escaped). Invalid UTF-8 becomes U+FFFD.
    public static func appendString(_ s: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(0x22)
        var clean = true
        for c in s where c < 0x20 || c == 0x22 || c == 0x5C || c >= 0x80 { clean = false; break }
        if clean {
            out.append(contentsOf: s)
        } else {
            let str = String(decoding: s, as: UTF8.self)
            for u in str.utf8 {
                switch u {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(u >> 4)], hex[Int(u & 15)]])
                default: out.append(u)
                }
            }
        }
        out.append(0x22)
    }

    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends `"key":` (keys are plain ASCII).
    public static func appendKey(_ k: String, to out: inout [UInt8]) {
        out.append(0x22)
        out.append(contentsOf: k.utf8)
        out.append(0x22); out.append(0x3A)
    }
}
