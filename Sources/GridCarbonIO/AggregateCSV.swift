import GridCarbonEngine
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
