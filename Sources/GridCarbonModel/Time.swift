/// Instants are whole microseconds since the Unix epoch (UTC).
///
/// Microseconds keep every RFC 3339 fraction the feeds send today exact, and an `Int64` of them
/// spans ±292,000 years, so arithmetic on instants never needs a `Date`.
public typealias Micros = Int64

public enum Time {
    public static let microsPerSecond: Int64 = 1_000_000
    public static let microsPerMinute: Int64 = 60_000_000
    public static let microsPerHour: Int64 = 3_600_000_000
    public static let microsPerDay: Int64 = 86_400_000_000
    /// The watermark before any record: far in the past, but far from overflow.
    public static let distantPast: Micros = Int64.min / 4
    /// The watermark at end of input.
    public static let distantFuture: Micros = Int64.max / 4

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    @inlinable
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day number (inverse of ``daysFromCivil(year:month:day:)``).
    @inlinable
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    @inlinable
    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    @inlinable
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Floor division for instants before the epoch.
    @inlinable
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// The zone windows are aligned to. gridcarbon supports fixed-offset zones, which covers
/// `Asia/Shanghai` (UTC+08:00 all year since 1991) and every Chinese grid.
public struct Zone: Sendable, Hashable, CustomStringConvertible {
    /// Offset east of UTC in seconds.
    public var offsetSeconds: Int
    /// The name the operator configured (`Asia/Shanghai`, `+08:00`, `UTC`).
    public var name: String

    public init(offsetSeconds: Int, name: String) {
        self.offsetSeconds = offsetSeconds
        self.name = name
    }

    public static let shanghai = Zone(offsetSeconds: 8 * 3600, name: "Asia/Shanghai")
    public static let utc = Zone(offsetSeconds: 0, name: "UTC")

    public var offsetMicros: Int64 { Int64(offsetSeconds) * Time.microsPerSecond }

    /// Parses `Asia/Shanghai`, `UTC`, `Z`, `+08:00`, `-05:30`, `UTC+8`.
    public init?(parsing text: String) {
        switch text {
        case "Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei":
            self.init(offsetSeconds: 8 * 3600, name: text)
            return
        case "UTC", "Z", "Etc/UTC", "GMT":
            self.init(offsetSeconds: 0, name: text)
            return
        default: break
        }
        var s = Substring(text)
        if s.hasPrefix("UTC") { s = s.dropFirst(3) }
        guard let sign = s.first, sign == "+" || sign == "-" else { return nil }
        s = s.dropFirst()
        let parts = s.split(separator: ":")
        guard (1...2).contains(parts.count), let h = Int(parts[0]), (0...14).contains(h) else { return nil }
        let m = parts.count == 2 ? Int(parts[1]) : 0
        guard let m, (0...59).contains(m) else { return nil }
        let off = (h * 3600 + m * 60) * (sign == "-" ? -1 : 1)
        self.init(offsetSeconds: off, name: text)
    }

    /// Local day number (days since 1970-01-01 in this zone) of an instant.
    @inlinable
    public func localDay(_ t: Micros) -> Int {
        Int(Time.floorDiv(t &+ offsetMicros, Time.microsPerDay))
    }

    /// The `+08:00` suffix of this zone.
    public var offsetSuffix: String {
        if offsetSeconds == 0 { return "+00:00" }
        let a = abs(offsetSeconds)
        let h = a / 3600, m = (a % 3600) / 60
        return (offsetSeconds < 0 ? "-" : "+") + (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    public var description: String { name }
}
