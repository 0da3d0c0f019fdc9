extension NumberFormat {
    /// `v` with exactly `decimals` digits after the point, rounded half away from zero (no point
    /// when `decimals` is 0): `fixed(2.5, decimals: 0)` is `3`, `fixed(1234.5, decimals: 2)` is
    /// `1234.50`. For the figures command-line messages print (seconds, rates, sizes); the files
    /// print numbers with ``string(_:)``.
    public static func fixed(_ v: Double, decimals: Int) -> String {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let r = (v * p).rounded() / p
        var s = String(r)
        if decimals == 0, s.hasSuffix(".0") { s.removeLast(2) }
        if let dot = s.firstIndex(of: ".") {
            let have = s.distance(from: dot, to: s.endIndex) - 1
            if have < decimals { s += String(repeating: "0", count: decimals - have) }
        } else if decimals > 0 { s += "." + String(repeating: "0", count: decimals) }
        return s
    }
}
