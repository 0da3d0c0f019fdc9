/// Writes instants as `YYYY-MM-DDTHH:MM:SS+08:00` in a zone, into bytes, without `Foundation`.
public struct TimeFormatter: Sendable {
    public let zone: Zone
    private let suffix: [UInt8]

    public init(zone: Zone) {
        self.zone = zone
        self.suffix = Array(zone.offsetSuffix.utf8)
    }

    /// Appends the local time of `t` (whole seconds; a fraction is written as `.ffffff` only when present).
    public func append(_ t: Micros, to out: inout [UInt8]) {
        let local = t &+ zone.offsetMicros
        let days = Time.floorDiv(local, Time.microsPerDay)
        let inDay = local - days * Time.microsPerDay
        let (y, mo, d) = Time.civilFromDays(Int(days))
        let secs = Int(inDay / Time.microsPerSecond)
        let frac = Int(inDay % Time.microsPerSecond)
        Self.digits(y, 4, &out); out.append(UInt8(ascii: "-"))
        Self.digits(mo, 2, &out); out.append(UInt8(ascii: "-"))
        Self.digits(d, 2, &out); out.append(UInt8(ascii: "T"))
        Self.digits(secs / 3600, 2, &out); out.append(UInt8(ascii: ":"))
        Self.digits(secs / 60 % 60, 2, &out); out.append(UInt8(ascii: ":"))
        Self.digits(secs % 60, 2, &out)
        if frac != 0 {
            out.append(UInt8(ascii: "."))
            Self.digits(frac, 6, &out)
        }
        out.append(contentsOf: suffix)
    }

    /// The local time of `t` as a `String` (for messages and JSON; not for hot paths).
    public func string(_ t: Micros) -> String {
        var b: [UInt8] = []
        b.reserveCapacity(32)
        append(t, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// `YYYY-MM-DD` of the local day number.
    public static func dateString(localDay: Int) -> String {
        let (y, m, d) = Time.civilFromDays(localDay)
        var b: [UInt8] = []
        digits(y, 4, &b); b.append(UInt8(ascii: "-")); digits(m, 2, &b); b.append(UInt8(ascii: "-")); digits(d, 2, &b)
        return String(decoding: b, as: UTF8.self)
    }

    @inline(__always)
    static func digits(_ v: Int, _ width: Int, _ out: inout [UInt8]) {
        var v = v
        if v < 0 { out.append(UInt8(ascii: "-")); v = -v }
        var buf: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &buf) { p in
            repeat {
                p[11 - n] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
                n += 1
            } while v > 0 && n < 12
            while n < width && n < 12 { p[11 - n] = 48; n += 1 }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[(12 - n)...]))
        }
    }
}
