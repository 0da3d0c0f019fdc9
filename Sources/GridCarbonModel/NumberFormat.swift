#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Numbers as the files print them (§1): C's `%.6f`, then trailing zeros and a trailing point
/// dropped (`64`, `30.025833`, `0.5306`, `0`).
///
/// The fast path rounds the exact binary value to six decimals the way glibc's `printf` does
/// (round half to even on the exact value), using an FMA to recover the exact product
/// `v * 1e6`; values beyond 4.5e9 fall back to `snprintf`. A test checks both agree.
public enum NumberFormat {
    public static func append(_ v: Double, to out: inout [UInt8]) {
        guard v.isFinite else {
            out.append(contentsOf: v.isNaN ? Array("nan".utf8) : (v < 0 ? Array("-inf".utf8) : Array("inf".utf8)))
            return
        }
        let a = abs(v)
        if a < 4.5e9 {
            let p = a * 1e6
            // Exact product a*1e6 = p + e, with e recovered by a fused multiply-add.
            let e = fma(a, 1e6, -p)
            var n = p.rounded(.down)
            let t = (p - n) - 0.5   // exact: p - n in [0, 1) is a multiple of ulp(p)
            let s = t + e           // sign of the rounded sum equals the sign of the exact sum
            if s > 0 || (s == 0 && UInt64(n) & 1 == 1) { n += 1 }
            let q = UInt64(n)
            if q == 0 {
                out.append(0x30)
                return
            }
            if v < 0 { out.append(0x2D) }
            let intPart = q / 1_000_000
            var frac = q % 1_000_000
            appendUInt(intPart, &out)
            if frac != 0 {
                out.append(0x2E)
                var width = 6
                while frac % 10 == 0 { frac /= 10; width -= 1 }
                // Zeros first, then the digits from the right (no scratch array per number).
                let start = out.count
                for _ in 0..<width { out.append(0x30) }
                var k = start + width - 1
                while frac > 0 { out[k] = UInt8(0x30 + frac % 10); frac /= 10; k -= 1 }
            }
            return
        }
        var buf = [CChar](repeating: 0, count: 64)
        let len = Int(withVaList([v]) { vsnprintf(&buf, 64, "%.6f", $0) })
        var bytes = buf[0..<min(len, 63)].map { UInt8(bitPattern: $0) }
        trim(&bytes)
        out.append(contentsOf: bytes)
    }

    /// The same formatting as a `String`.
    public static func string(_ v: Double) -> String {
        var b: [UInt8] = []
        append(v, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Formatting through `snprintf`, for tests and rare values.
    public static func reference(_ v: Double) -> String {
        var buf = [CChar](repeating: 0, count: 400)
        let len = Int(withVaList([v]) { vsnprintf(&buf, 400, "%.6f", $0) })
        var bytes = buf[0..<min(len, 399)].map { UInt8(bitPattern: $0) }
        trim(&bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func trim(_ bytes: inout [UInt8]) {
        if bytes.contains(0x2E) {
            while bytes.last == 0x30 { bytes.removeLast() }
            if bytes.last == 0x2E { bytes.removeLast() }
        }
        if bytes == [0x2D, 0x30] { bytes = [0x30] }
    }

    @inline(__always)
    public static func appendUInt(_ v: UInt64, _ out: inout [UInt8]) {
        if v < 10 { out.append(UInt8(0x30 + v)); return }
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var n = 0
        var v = v
        withUnsafeMutableBytes(of: &tmp) { p in
            while v > 0 { p[23 - n] = UInt8(0x30 + v % 10); v /= 10; n += 1 }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[(24 - n)...]))
        }
    }

    public static func appendInt(_ v: Int, _ out: inout [UInt8]) {
        if v < 0 { out.append(0x2D); appendUInt(UInt64(-v), &out) } else { appendUInt(UInt64(v), &out) }
    }
}
