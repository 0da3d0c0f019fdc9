import GridCarbonModel

extension Engine {
    /// Replaces the meter registry (§2.1: SIGHUP and `POST /v1/registry`) and returns the engine
    /// that carries on from here with the state of this one; this one must not be used afterwards.
    ///
    /// Deterministic: the same engine state and the same `fresh` registry give the same new engine,
    /// so a log replay that applies the reload at the same point writes the same bytes. Semantics:
    /// - **A span takes the keys its meter has when the span is attributed** (when the watermark
    ///   passes its end). Spans attributed after the reload, including those of readings accepted
    ///   before it and still pending, use the new registry; energy already attributed to slots stays
    ///   with the keys it was attributed under, so a window's energy and its `spans` always agree.
    ///   Closed slots, windows and files never change.
    /// - Per-meter state is remapped by meter id: a meter in both registries keeps its baseline
    ///   reading, pending readings and intervals, open-slot energy and its place in the open windows'
    ///   distinct-meter sets (it is counted once per window, under the keys it had when first counted).
    /// - A meter whose keys changed keeps the energy already in open slots under its old keys, in a
    ///   *retired* entry (see ``Registry/liveCount``) that lookup does not find.
    /// - A meter the new file drops: new records for it are `unknown_meter`. What the engine already
    ///   accepted for it is not lost (§4.3): it becomes a retired entry with its old keys, its
    ///   pending readings are still turned into spans, its open-slot energy still closes. A retired
    ///   entry that holds nothing any more is dropped at the next reload. A dropped meter that comes
    ///   back in a later file is a new meter (a fresh baseline).
    /// - Added meters start fresh.
    /// - Key names and profiles keep their indices (new ones are appended), so open window sums and
    ///   running totals keep their meaning: a key no meter has any more keeps its totals to date.
    public func replacingRegistry(with fresh: Registry) -> (engine: Engine, change: RegistryChange) {
        let mc = meterCount
        // Which old meters hold energy in an open slot.
        var hasCells = [Bool](repeating: false, count: mc)
        for r in 0..<ringSize where touched[r] {
            let row = cells + r * mc
            for m in 0..<mc where row[m] != 0 { hasCells[m] = true }
        }
        let rep = registry.replaced(by: fresh) { old, successor, sameKeys in
            if successor != nil { return !sameKeys && hasCells[old] }
            return pendHead[old] >= 0 || hasCells[old]
        }
        let e = Engine(settings: settings, registry: rep.registry, annual: factors.annual, sources: factors.sources, sink: sink, now: now)
        // Where each old meter's state goes: readings (baseline, pending, window membership) to the
        // live meter with its id, else to its retired copy; open-slot energy to the retired copy if
        // there is one (keys changed or meter removed), else to the live meter.
        let follow = (0..<mc).map { rep.successor[$0] >= 0 ? Int(rep.successor[$0]) : Int(rep.retiredAs[$0]) }
        let energyTo = (0..<mc).map { rep.retiredAs[$0] >= 0 ? Int(rep.retiredAs[$0]) : Int(rep.successor[$0]) }

        e.factors = factors
        e.dual = dual
        e.counts = counts
        e.acceptedByKind = acceptedByKind
        e.watermark = watermark
        e.maxEventTime = maxEventTime
        e.sourceNames = sourceNames
        e.windowsClosed = windowsClosed
        e.closedBefore = closedBefore
        e.scaleOut = scaleOut
        e.refusesMeterRecords = refusesMeterRecords
        e.parser.scope.value = parser.scope.value

        for m in 0..<mc {
            let t = follow[m]
            if t >= 0 { e.baseTs[t] = baseTs[m]; e.baseVal[t] = baseVal[m]; e.intervalEnd[t] = intervalEnd[m] }
            // Pending items, in list order, onto the target's list (the map is one-to-one).
            var h = pendHead[m]
            var tail: Int32 = -1
            while h >= 0 {
                precondition(t >= 0, "pending readings of meter \(registry.meterID(m)) would be lost")
                let it = pool[Int(h)]
                let slot = e.allocPending()
                let b = Int(Time.floorDiv(it.key, Time.microsPerSecond) & e.bucketMask)
                e.pool[Int(slot)] = Pending(key: it.key, start: it.start, value: it.value, next: -1, meter: Int32(t), bucketNext: e.bucketHead[b], kind: it.kind)
                e.bucketHead[b] = slot
                if tail < 0 { e.pendHead[t] = slot } else { e.pool[Int(tail)].next = slot }
                tail = slot
                e.pendingCount += 1
                e.linkedCount += 1
                h = it.next
            }
        }

        let nc = e.meterCount
        for r in 0..<ringSize where touched[r] {
            e.touched[r] = true
            e.touchedCount += 1
            let from = cells + r * mc, to = e.cells + r * nc
            for m in 0..<mc where from[m] != 0 {
                precondition(energyTo[m] >= 0, "open-slot energy of meter \(registry.meterID(m)) would be lost")
                to[energyTo[m]] = from[m]
            }
        }

        let pc = profileCount
        for li in 0..<windowLens.count {
            for acc in open[li] {
                let n = WindowAccumulator(lengthIndex: li, index: acc.index, profiles: e.profileCount, meters: nc)
                n.energy.update(from: acc.energy, count: pc)
                n.co2.update(from: acc.co2, count: pc)
                n.realtime.update(from: acc.realtime, count: pc)
                n.spans.update(from: acc.spans, count: pc)
                n.meters.update(from: acc.meters, count: pc)
                for w in 0..<acc.seenWords where acc.seen[w] != 0 {
                    var bits = acc.seen[w]
                    while bits != 0 {
                        let m = w << 6 | bits.trailingZeroBitCount
                        bits &= bits &- 1
                        let t = follow[m]
                        if t >= 0 { n.seen[t >> 6] |= UInt64(1) << UInt64(t & 63) }
                    }
                }
                e.open[li].append(n)
            }
        }

        e.totals.day = totals.day
        e.totals.month = totals.month
        e.totals.year = totals.year
        for p in 0..<pc {
            e.totals.dayTotals[p] = totals.dayTotals[p]
            e.totals.monthTotals[p] = totals.monthTotals[p]
            e.totals.yearTotals[p] = totals.yearTotals[p]
        }
        // Alert rules carry on with their state; budgets and key filters are rebound by name.
        e.adoptAlerts(from: self, meterMap: follow)
        return (e, rep.change)
    }
}
