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
