import GridCarbonModel

// The merger's engine (§8): partitions' exact partial sums in, the fleet's windows out.
//
// When a slot closes decides which factor records apply to it (§3.3: the factor known when the slot
// closes). In a single engine, slot s closes at the meter record that moves the watermark past it;
// the watermark is the largest meter timestamp seen, so across partitions that is the *first*
// partition to pass s, at the stream sequence `c(s) = min over partitions of the sequence of the
// message after which it had closed s`. The merger applies exactly the grid records with a stream
// sequence below `c(s)` before closing s, whatever the order in which the partitions' batches and
// the grid messages reach it. The stream's contents alone decide the bytes.
extension Engine {
    /// Makes this engine a merger of `partitions` partitions, or a partition engine (call right
    /// after init, before any input).
    public func assume(role: EngineRole) {
        precondition(counts.total == 0 && closedBefore == Int64.min / 8, "the role is set before any input")
        scaleOut = role == .whole ? nil : ScaleOutState(role: role)
        refusesMeterRecords = scaleOut?.isMerge ?? false
        parser.scope.value = registry.meterLevel ? .all : role.meterScope
    }

    /// Takes a partition's batch. Returns false when it was merged already (a worker's replay after
    /// a restart) and was dropped.
    @discardableResult
    public func mergePartial(_ b: PartialBatch) throws(ScaleOutError) -> Bool {
        guard let state = scaleOut, case .merge(let count) = state.role else {
            throw ScaleOutError(.mismatch, "this engine is not a merger")
        }
        guard Int(b.partitions) == count, b.partition >= 0, b.partition < b.partitions else {
            throw ScaleOutError(.mismatch, "a batch from partition \(b.partition) of \(b.partitions), but the stream has \(count) partitions")
        }
        guard b.profileHash == profileHash else {
            throw ScaleOutError(.mismatch, "partition \(b.partition) runs with another meter registry (profile hash \(b.profileHash), here \(profileHash)): give workers and merger the same registry file")
        }
        guard b.slot == slotLen, b.windowLengths == windowLens else {
            throw ScaleOutError(.mismatch, "partition \(b.partition) runs with another slot or window lengths: give workers and merger the same configuration")
        }
        let p = Int(b.partition)
        if b.closedBefore <= state.last[p].closedBefore {
            state.duplicateBatches += 1
            return false
        }
        for s in b.slots where s.index < closedBefore {
            throw ScaleOutError(.inconsistent, "partition \(b.partition) hands over slot \(s.index), which the merger closed already")
        }
        let step = ScaleOutState.Step(closedBefore: b.closedBefore, seq: b.streamSeq)
        state.last[p] = step
        state.steps[p].append(step)
        for s in b.slots {
            var energies = state.pendingSlots[s.index] ?? Array(repeating: 0, count: profileCount)
            for (q, u) in zip(s.profiles, s.units) where Int(q) < profileCount && q >= 0 { energies[Int(q)] += u }
            state.pendingSlots[s.index] = energies
        }
        for w in b.windows where Int(w.lengthIndex) < windowLens.count {
            let acc = window(Int(w.lengthIndex), w.index)
            for k in w.profiles.indices where Int(w.profiles[k]) < profileCount && w.profiles[k] >= 0 {
                let q = Int(w.profiles[k])
                acc.meters[q] &+= w.meters[k]
                acc.spans[q] &+= w.spans[k]
            }
        }
        mergeStep()
        return true
    }

    /// Takes a grid message (its record lines) at stream sequence `seq`. Grid messages come in
    /// stream order; one at or below a sequence already received is a redelivery and is dropped.
    public func mergeGrid(seq: UInt64, lines: UnsafeRawBufferPointer) {
        guard let state = scaleOut, state.isMerge else { return }
        if seq <= state.gridThrough { return }
        state.grid.append((seq, Array(lines)))
        state.gridThrough = seq
        mergeStep()
    }

    /// Every grid message at or below `seq` has been received (the grid subject has nothing
    /// pending and the stream's last sequence was `seq`).
    public func mergeGridThrough(_ seq: UInt64) {
        guard let state = scaleOut, state.isMerge, seq > state.gridThrough else { return }
        state.gridThrough = seq
        mergeStep()
    }

    /// Applies the grid records and closes the slots that the partitions' steps and the grid
    /// messages received allow, in stream order (see the comment at the top of this file).
    func mergeStep() {
        guard let state = scaleOut, state.isMerge else { return }
        let parts = state.steps.count
        while true {
            let s = closedBefore
            // Per partition, its first step past s: every slot in [s, its closedBefore) was
            // closed there at that step's sequence.
            var end = Int64.max
            var c = UInt64.max
            var allPassed = true
            var bound = UInt64.max
            for p in 0..<parts {
                while let first = state.steps[p].first, first.closedBefore <= s { state.steps[p].removeFirst() }
                if let first = state.steps[p].first {
                    end = min(end, first.closedBefore)
                    c = min(c, first.seq)
                    bound = min(bound, first.seq)
                } else {
                    allPassed = false
                    // It has not passed s: it will, at a message after its last step.
                    bound = min(bound, state.last[p].seq &+ 1)
                }
            }
            // Grid records that come before any partition can close s apply now.
            let applyBelow = allPassed ? c : bound
            var applied = 0
            for g in state.grid {
                if g.seq >= applyBelow { break }
                applyGrid(g.lines)
                applied += 1
            }
            if applied > 0 { state.grid.removeFirst(applied) }
            // Close [s, end) once every grid record below c is known to be here.
            guard allPassed, parts > 0, state.gridThrough >= c &- 1 else { return }
            closeMerged(upTo: end)
        }
    }

    /// Applies one grid message's lines, as the merger's source `nats:grid`.
    func applyGrid(_ lines: [UInt8]) {
        let source = source(named: "nats:grid")
        var line: Int64 = 1
        lines.withUnsafeBytes { ingestPayload($0, source: source, line: &line) }
    }

    /// Closes the merged slots below `end`: each slot with energy from some partition is summed,
    /// its factors applied, and added to its windows; windows close with their last slot.
    func closeMerged(upTo end: Int64) {
        guard let state = scaleOut else { return }
        var t = closedBefore
        while t < end {
            // The next slot with something to do: energy handed over, or an open window's end.
            var next = end
            for k in state.pendingSlots.keys where k < next { next = k }
            for li in 0..<windowLens.count {
                if let first = open[li].first {
                    let wEnd = slotIndex((first.index + 1) &* windowLens[li] &- offset)
                    if wEnd < next { next = wEnd }
                }
            }
            if next > t {
                t = next
                closedBefore = t
                closeWindows(endingBefore: t)
                continue
            }
            if let energies = state.pendingSlots.removeValue(forKey: t) {
                slotEnergy = energies
                applySlot(t)
            }
            t += 1
            closedBefore = t
            closeWindows(endingBefore: t)
        }
        closedBefore = end
        factors.prune(closedBefore: slotStart(end))
        // The merger's watermark, for the API's lag figures: where the closed slots end, plus the horizon.
        let (w, overflow) = slotStart(end).addingReportingOverflow(horizon)
        watermark = max(watermark, overflow ? Time.distantFuture : min(w, Time.distantFuture))
    }

    /// The merger's view, for metrics: per partition its last step (`closedBefore` slot and stream
    /// sequence), the grid sequence known complete, slots waiting, batches dropped as duplicates.
    public var mergeProgress: (partitions: [(closedBefore: Int64, seq: UInt64)], gridThrough: UInt64, pendingSlots: Int, duplicateBatches: Int)? {
        guard let state = scaleOut, state.isMerge else { return nil }
        return (state.last.map { ($0.closedBefore, $0.seq) }, state.gridThrough, state.pendingSlots.count, state.duplicateBatches)
    }
}
