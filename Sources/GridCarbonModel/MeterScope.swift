/// Which meters of a registry file a process keeps (§8). A scale-out worker needs the per-meter
/// entries of its own partition only, and the merger none: it merges per-profile sums. Every
/// process still reads the whole file, so key names and profiles (and their numbering, which the
/// partial batches use) are the same everywhere; only the per-meter arrays, and the engine state
/// sized by them, shrink. With the `meter` level on, each meter is its own profile and every
/// process keeps every meter.
public enum MeterScope: Sendable, Equatable {
    /// Every meter (a single machine, `replay`).
    case all
    /// The meters of partition `index` of `of` (``Partitioning``).
    case partition(index: Int, of: Int)
    /// No meter: key names and profiles only (the merger).
    case none

    /// Whether a meter with this id is kept.
    @inlinable
    public func keeps(_ id: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .all: return true
        case .partition(let index, let count): return Partitioning.partition(meterID: id, count: count) == index
        case .none: return false
        }
    }
}
