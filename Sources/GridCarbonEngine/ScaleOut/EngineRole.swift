import GridCarbonModel

/// What an engine does in a scale-out deployment (§8).
///
/// - `whole`: the single-machine engine: records in, aggregate files out.
/// - `partition`: a worker's engine for one partition of the meters. It turns records into spans
///   and slots as usual, but applies no factor: when its (partition-local) watermark closes slots
///   and windows, it hands their exact per-profile energies and counts to the sink as a
///   ``PartialBatch``.
/// - `merge`: the merger's engine. It takes every partition's batches and the grid records, and
///   closes a slot once every partition has passed it, applying the factors known at the point of
///   the stream where the slot closed (see ``Engine/mergeStep()``). Its windows, running totals and
///   alerts are those of the whole fleet.
public enum EngineRole: Sendable, Equatable {
    case whole
    case partition(index: Int, of: Int)
    case merge(partitions: Int)
}

extension EngineRole {
    /// The meters of the registry this role needs (§8): all for the whole engine, its own for a
    /// partition, none for the merger (it merges per-profile sums).
    public var meterScope: MeterScope {
        switch self {
        case .whole: return .all
        case .partition(let index, let count): return .partition(index: index, of: count)
        case .merge: return .none
        }
    }
}
