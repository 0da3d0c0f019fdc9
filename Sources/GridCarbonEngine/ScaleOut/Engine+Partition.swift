import GridCarbonModel

// A partition's engine (§8): closed slots and windows leave as exact partial sums, no factor applied.
extension Engine {
    /// Slot `s` closed in a partition engine: keep its per-profile energies for the next batch.
    func partitionSlotClosed(_ s: Int64, state: ScaleOutState) {
        var slot = PartialBatch.Slot(index: s, profiles: [], units: [])
        for p in 0..<profileCount where slotEnergy[p] != 0 {
            slot.profiles.append(Int32(p))
            slot.units.append(slotEnergy[p])
        }
        if !slot.profiles.isEmpty { state.slots.append(slot) }
    }

    /// Window `acc` closed in a partition engine: keep its per-profile counts for the next batch.
    func partitionWindowClosed(_ acc: WindowAccumulator, state: ScaleOutState) {
        var w = PartialBatch.Window(lengthIndex: Int32(acc.lengthIndex), index: acc.index, profiles: [], meters: [], spans: [])
        for p in 0..<profileCount where acc.spans[p] > 0 {
            w.profiles.append(Int32(p)); w.meters.append(acc.meters[p]); w.spans.append(acc.spans[p])
        }
        if !w.profiles.isEmpty { state.windows.append(w) }
    }

    /// The engine's role in a scale-out deployment.
    public var role: EngineRole { scaleOut?.role ?? .whole }

    /// The last stream message applied (partition: its data; merge: its partials), 0 before any.
    public var lastStreamSeq: UInt64 {
        get { scaleOut?.lastStreamSeq ?? 0 }
        set { scaleOut?.lastStreamSeq = newValue }
    }

    /// A partition engine, after the stream message at `seq` was applied: the batch of what it
    /// closed, or nil when its `closedBefore` did not move. Also records `seq` as applied.
    public func takePartialBatch(streamSeq seq: UInt64) -> PartialBatch? {
        guard let state = scaleOut, case .partition(let index, let count) = state.role else { return nil }
        state.lastStreamSeq = max(state.lastStreamSeq, seq)
        guard closedBefore > state.flushedClosedBefore else { return nil }
        state.flushedClosedBefore = closedBefore
        let batch = PartialBatch(partition: Int32(index), partitions: Int32(count), profileHash: profileHash,
                                 slot: slotLen, windowLengths: windowLens, streamSeq: seq, closedBefore: closedBefore,
                                 slots: state.slots, windows: state.windows)
        state.slots.removeAll()
        state.windows.removeAll()
        return batch
    }

    /// The hash of the registry's profiles (shared by partitions and merger).
    public var profileHash: UInt64 {
        let (idHash, ph) = registryHashes ?? hashRegistry()
        registryHashes = (idHash, ph)
        return ph
    }
}
