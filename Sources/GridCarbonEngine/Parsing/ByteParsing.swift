import GridCarbonModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parsers over raw bytes for the hot path: no `String`, no `Date`, no allocation.
public enum ByteParsing {
    @usableFromInline
    // A literal, so that the optimizer lays it out statically: a computed global is initialised
    // lazily, and every read of it costs a `swift_once` check in the per-number path.
    static let pow10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses a decimal number (`12`, `-3.5`, `1012.50`, `1e3`). Returns nil for anything else,
    /// including `nan`, `inf` and hexadecimal. Results are correctly rounded: the common case
    /// (at most 15 significant digits, no exponent) is exact by Clinger's fast path, the rest goes to `strtod`.
    @inlinable
    public static func number(_ p: UnsafeRawBufferPointer) -> Double? {
        let n = p.count
        if n == 0 || n > 64 { return nil }
        var i = 0
        var neg = false
        if p[0] == 0x2D { neg = true; i = 1 } else if p[0] == 0x2B { i = 1 }
        var mant: UInt64 = 0
        let intStart = i
        while i < n {
            let d = p[i] &- 0x30
            if d > 9 { break }
            mant = mant &* 10 &+ UInt64(d)
            i += 1
        }
        let intDigits = i - intStart
        var fracDigits = 0
        if i < n && p[i] == 0x2E {
            i += 1
            let fracStart = i
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { break }
                mant = mant &* 10 &+ UInt64(d)
                i += 1
            }
            fracDigits = i - fracStart
        }
        if intDigits + fracDigits == 0 { return nil }
        // At most 15 digits in all: the mantissa is exact and so is the division (Clinger).
        if i == n && intDigits + fracDigits <= 15 {
            let v = Double(mant) / pow10[fracDigits]
            return neg ? -v : v
        }
        // Exponent or many digits: validate the shape, then let the C library round it.
        if i < n {
            guard p[i] == 0x65 || p[i] == 0x45 else { return nil }
            i += 1
            if i < n && (p[i] == 0x2D || p[i] == 0x2B) { i += 1 }
            var expDigits = 0
            while i < n, p[i] &- 0x30 < 10 { i += 1; expDigits += 1 }
            if expDigits == 0 || i != n { return nil }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            for k in 0..<n { buf[k] = CChar(bitPattern: p[k]) }
            buf[n] = 0
            let v = strtod(buf.baseAddress!, nil)
            return v.isFinite ? v : nil
        }
    }

    @inline(__always) @usableFromInline
    static func two(_ p: UnsafeRawBufferPointer, _ i: Int) -> Int {
        let a = p[i] &- 0x30, b = p[i + 1] &- 0x30
        if a > 9 || b > 9 { return -1 }
        return Int(a) * 10 + Int(b)
    }

    /// Parses RFC 3339 with seconds and an offset or `Z` (fractional seconds allowed), or whole Unix
    /// seconds. Returns microseconds since the epoch, or nil (`bad_timestamp`).
    @inlinable
    public static func timestamp(_ p: UnsafeRawBufferPointer) -> Micros? {
        let n = p.count
        if n == 0 { return nil }
        if n < 20 || p[4] != 0x2D {
            // Whole Unix seconds.
            if n > 12 { return nil }
            var v: Int64 = 0
            var i = 0
            var neg = false
            if p[0] == 0x2D { neg = true; i = 1; if n == 1 { return nil } }
            while i < n {
                let d = p[i] &- 0x30
                if d > 9 { return nil }
                v = v * 10 + Int64(d)
                i += 1
            }
            return (neg ? -v : v) * Time.microsPerSecond
        }
        // YYYY-MM-DDTHH:MM:SS
        let y1 = two(p, 0), y2 = two(p, 2)
        let mo = two(p, 5), d = two(p, 8), h = two(p, 11), mi = two(p, 14), s = two(p, 17)
        guard y1 >= 0, y2 >= 0, p[7] == 0x2D, p[10] == 0x54 || p[10] == 0x74, p[13] == 0x3A, p[16] == 0x3A,
              mo >= 1, mo <= 12, d >= 1, h >= 0, h <= 23, mi >= 0, mi <= 59, s >= 0, s <= 59 else { return nil }
        let year = y1 * 100 + y2
        guard d <= Time.daysInMonth(year: year, month: mo) else { return nil }
        var i = 19
        var frac: Int64 = 0
        if p[i] == 0x2E {
            i += 1
            var nd = 0
            while i < n, p[i] &- 0x30 < 10 {
                if nd < 6 { frac = frac * 10 + Int64(p[i] &- 0x30) }
                nd += 1
                i += 1
            }
            if nd == 0 || nd > 9 { return nil }
            while nd < 6 { frac *= 10; nd += 1 }
        }
        guard i < n else { return nil }
        var offset = 0
        if p[i] == 0x5A || p[i] == 0x7A {
            i += 1
        } else if p[i] == 0x2B || p[i] == 0x2D {
            guard i + 6 == n, p[i + 3] == 0x3A else { return nil }
            let oh = two(p, i + 1), om = two(p, i + 4)
            guard oh >= 0, oh <= 23, om >= 0, om <= 59 else { return nil }
            offset = (oh * 60 + om) * 60 * (p[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = Time.daysFromCivil(year: year, month: mo, day: d)
        let secs = Int64(days) * 86_400 + Int64(h * 3600 + mi * 60 + s) - Int64(offset)
        return secs * Time.microsPerSecond + frac
    }
}
