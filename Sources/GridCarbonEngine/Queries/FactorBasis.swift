/// Which rule of reference §3.3 a region's emission factor came from. Open to more rules: a
/// flow-traced factor (reference §9.3) is meant to become one more case.
public enum FactorBasis: String, Sendable, Equatable, CaseIterable {
    /// Rule 1: a real-time factor (`f` record) for the region.
    case realtime
    /// Rule 2: the region's own generation mix (`m` records).
    case mix
    /// Rule 3: the region's published annual average factor.
    case annual
    /// Rule 4: the national annual average (a region without a factor of its own, e.g. `CN-XZ`).
    case national

    /// The name the API prints.
    public var name: String { rawValue }
}

/// A region's factor over an interval and the rule that covered most of it (reference §3.3).
public struct FactorInForce: Sendable, Equatable {
    /// Time-weighted mean factor over the interval, kg CO2/kWh (what a slot close would apply).
    public var kgPerKWh: Double
    /// The rule in force over the largest share of the interval (ties: the earlier rule).
    public var basis: FactorBasis

    public init(kgPerKWh: Double, basis: FactorBasis) {
        self.kgPerKWh = kgPerKWh
        self.basis = basis
    }
}
