/// Exact, mergeable sums of energy and emissions (§8: partial sums merge exactly).
///
/// A quantity is held as a whole number of 10⁻¹² units (pico-kWh, pico-kg) in an `Int128`.
/// Each per-meter slot energy is rounded to that unit once, when it enters a sum; from there on,
/// every sum is integer addition, so it is the same whatever the order of its terms and however
/// they were split into partitions and merged. The value is turned back into a `Double` once, when
/// it is printed or compared.
///
/// The range, ±1.7 × 10²⁶ kWh, is some 10¹³ times a year of China's consumption; the resolution,
/// 10⁻¹² kWh, is a millionth of the last printed digit.
public enum ExactSum {
    /// Units per kWh (or per kg).
    public static let scale: Double = 1e12

    /// `x` in units, rounded to the nearest (ties away from zero).
    @inline(__always)
    public static func units(_ x: Double) -> Int128 {
        let y = (x * scale).rounded()
        if y.magnitude < 9.2e18 { return Int128(Int64(y)) }
        precondition(y.isFinite, "non-finite quantity in an exact sum")
        return Int128(y)
    }

    /// `v` units as a `Double` (the nearest one).
    @inline(__always)
    public static func value(_ v: Int128) -> Double {
        if let small = Int64(exactly: v) { return Double(small) / scale }
        return Double(v) / scale
    }
}
