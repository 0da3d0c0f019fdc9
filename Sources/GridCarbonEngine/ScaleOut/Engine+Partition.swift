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

    /// The hash of what partial batches refer to, the same in every partition and the merger:
    /// the profiles (in order) and the key names of every level. Not the per-meter entries, which
    /// each process keeps only for its own scope (``MeterScope``).
    public var profileHash: UInt64 {
        if let h = profileHashCache { return h }
        var h = FoldHash()
        for p in profiles {   // per field: the struct's layout is not part of the format
            h.add(Int64(p.region) << 32 | Int64(UInt32(bitPattern: p.city)))
            h.add(Int64(p.park) << 32 | Int64(UInt32(bitPattern: p.enterprise)))
            h.add(Int64(p.industry) << 32 | Int64(UInt32(bitPattern: p.meter)))
        }
        h.add(Int64(profiles.count))
        for level in Level.allCases {
            for name in registry.keyNames[level.rawValue] {
                var name = name
                name.withUTF8 { h.add(UnsafeRawBufferPointer($0)) }
                h.add(Int64(-1))
            }
            h.add(Int64(-2))
        }
        profileHashCache = h.value
        return h.value
    }
}
