/// Which rule of reference §3.3 a region's emission factor came from.
public enum FactorBasis: String, Sendable, Equatable, CaseIterable {
    /// Rule 1: a real-time factor (`f` record) for the region.
    case realtime
    /// Rule 2 where exchange (`x`) records cover the instant: the flow-traced consumption factor
    /// (reference §9.3).
    case flowTraced = "flow_traced"
    /// Rule 2: the region's own generation mix (`m` records).
    case mix
    /// Rule 3: the region's published annual average factor.
    case annual
    /// Rule 4: the national annual average (a region without a factor of its own, e.g. `CN-XZ`).
    case national

    /// The name the API prints.
    public var name: String { rawValue }
}
