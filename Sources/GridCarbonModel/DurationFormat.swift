/// Durations as operators write them: `15m`, `1h`, `1d`, `90s`, `500ms`.
public enum DurationFormat {
    /// A whole number and one unit (`ms`, `us`, `s`, `m`, `h`, `d`) as microseconds; nil for
    /// anything else, a negative number, or a value that overflows.
    public static func parse(_ text: String) -> Micros? {
        let units: [(String, Int64)] = [("ms", 1000), ("us", 1), ("s", Time.microsPerSecond), ("m", Time.microsPerMinute), ("h", Time.microsPerHour), ("d", Time.microsPerDay)]
        for (u, mult) in units where text.hasSuffix(u) {
            guard let n = Int64(text.dropLast(u.count)), n >= 0 else { return nil }
            let (v, o) = n.multipliedReportingOverflow(by: mult)
            return o ? nil : v
        }
        return nil
    }

    /// Shortest spelling: `15m`, `1h`, `1d`, `90s`.
    public static func format(_ v: Micros) -> String {
        if v != 0 && v % Time.microsPerDay == 0 { return "\(v / Time.microsPerDay)d" }
        if v != 0 && v % Time.microsPerHour == 0 { return "\(v / Time.microsPerHour)h" }
        if v != 0 && v % Time.microsPerMinute == 0 { return "\(v / Time.microsPerMinute)m" }
        if v % Time.microsPerSecond == 0 { return "\(v / Time.microsPerSecond)s" }
        if v % 1000 == 0 { return "\(v / 1000)ms" }
        return "\(v)us"
    }
}
