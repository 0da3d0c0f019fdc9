import GridCarbonModel

/// The engine's scale-out state (§8): what a partition has closed but not handed over yet, and what
/// the merger holds until every partition has passed a slot. Owned by the engine, checkpointed with
/// it (section `SCLO`).
final class ScaleOutState {
    let role: EngineRole

    // MARK: Partition and merge

    /// The last stream message applied: a partition's data message, or the merger's last partial
    /// (its own stream). A restart resumes after it; redeliveries at or below it are dropped.
    var lastStreamSeq: UInt64 = 0

    // MARK: Partition

    /// Slots and windows closed since the last batch was taken.
    var slots: [PartialBatch.Slot] = []
    var windows: [PartialBatch.Window] = []
    /// `closedBefore` when the last batch was taken.
    var flushedClosedBefore: Int64 = Int64.min / 8

    // MARK: Merge

    /// A partition's step: after the message at `seq`, every slot below `closedBefore` was closed.
    struct Step: Equatable {
        var closedBefore: Int64
        var seq: UInt64
    }
    /// Per partition, the steps not yet used up (`closedBefore` above the merger's).
    var steps: [[Step]] = []
    /// Per partition, the last step seen (dropped duplicates compare with it).
    var last: [Step] = []
    /// Exact energy per profile of the slots some partition has handed over and the merger has not
    /// closed yet.
    var pendingSlots: [Int64: [Int128]] = [:]
    /// Grid messages received and not applied yet, in stream order.
    var grid: [(seq: UInt64, lines: [UInt8])] = []
    /// Every grid message at or below this stream sequence has been received.
    var gridThrough: UInt64 = 0
    /// Batches dropped as already merged (a worker's replay after a restart).
    var duplicateBatches: Int = 0

    init(role: EngineRole) {
        self.role = role
        if case .merge(let p) = role {
            steps = Array(repeating: [], count: p)
            last = Array(repeating: Step(closedBefore: Int64.min / 8, seq: 0), count: p)
        }
    }

    var isPartition: Bool { if case .partition = role { true } else { false } }
    var isMerge: Bool { if case .merge = role { true } else { false } }
}
