/// Flow-traced consumption factors (reference §9.3): proportional sharing over the provinces of one
/// instant.
///
/// Each province `i` of the system consumes its own generation `G_i` and its imports `X_ji`; what it
/// exports carries its consumption mix. Its consumption factor `c_i` then solves
/// `c_i * (G_i + sum_j X_ji) = E_i + sum_j X_ji * c_j`, where `E_i = sum_s G_is * ef_s` is the
/// emission rate of its own generation; an import from outside the system adds `X * c_ext` to the
/// right-hand side at the exporter's given factor. Powers are in any one unit (MW); factors in kg/kWh.
public enum FlowTracing {
    /// Solves the system for `n` provinces.
    /// - Parameters:
    ///   - generation: `G_i`, n values, each > 0.
    ///   - emissions: `E_i = sum_s G_is * ef_s`, n values.
    ///   - imports: `imports[i * n + j]` = power flowing from `j` into `i` (`X_ji`); the diagonal is ignored.
    ///   - external: per province, `sum X * c_ext` over its imports from outside the system, and
    ///     `externalPower` the power of those imports.
    /// - Returns: `c_i`, or nil when the system is singular (it never is with every `G_i` > 0: the
    ///   matrix is then strictly diagonally dominant by columns of its transpose).
    public static func solve(generation: [Double], emissions: [Double], imports: [Double],
                             external: [Double], externalPower: [Double]) -> [Double]? {
        let n = generation.count
        precondition(emissions.count == n && imports.count == n * n && external.count == n && externalPower.count == n)
        var a = [Double](repeating: 0, count: n * n)
        var b = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var inflow = externalPower[i]
            for j in 0..<n where j != i {
                let x = imports[i * n + j]
                inflow += x
                a[i * n + j] = -x
            }
            a[i * n + i] = generation[i] + inflow
            b[i] = emissions[i] + external[i]
        }
        return gaussianSolve(a: &a, b: &b, n: n)
    }

    /// Solves `a x = b` (row-major `n × n`) by Gaussian elimination with partial pivoting;
    /// `a` and `b` are overwritten. Nil when a pivot is zero (singular).
    public static func gaussianSolve(a: inout [Double], b: inout [Double], n: Int) -> [Double]? {
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b -> [Double]? in
                for k in 0..<n {
                    var p = k
                    var best = abs(a[k * n + k])
                    for r in (k + 1)..<max(k + 1, n) where abs(a[r * n + k]) > best {
                        best = abs(a[r * n + k]); p = r
                    }
                    guard best > 0, best.isFinite else { return nil }
                    if p != k {
                        for c in k..<n { a.swapAt(k * n + c, p * n + c) }
                        b.swapAt(k, p)
                    }
                    let pivot = a[k * n + k]
                    for r in (k + 1)..<max(k + 1, n) {
                        let f = a[r * n + k] / pivot
                        if f == 0 { continue }
                        a[r * n + k] = 0
                        for c in (k + 1)..<n { a[r * n + c] -= f * a[k * n + c] }
                        b[r] -= f * b[k]
                    }
                }
                var x = [Double](repeating: 0, count: n)
                for k in stride(from: n - 1, through: 0, by: -1) {
                    var s = b[k]
                    for c in (k + 1)..<n { s -= a[k * n + c] * x[c] }
                    x[k] = s / a[k * n + k]
                }
                return x
            }
        }
    }
}
