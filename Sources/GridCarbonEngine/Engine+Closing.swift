import GridCarbonModel

// Closing (§3.4, §3.5): closed slots are rolled up to levels and windows, and closed windows emitted.
extension Engine {
    /// Closes every slot below `target`, and the windows whose last slot that is.
    func close(upTo target: Int64) {
        let mask = Int64(ringSize - 1)
        var s = closedBefore
        if touchedCount == 0 && open.allSatisfy({ $0.isEmpty }) {
            closedBefore = target
            factors.prune(closedBefore: slotStart(target))
            silentChecks(before: target)
            return
        }
        while s < target {
            let r = Int(s & mask)
            if touched[r] {
                closeSlot(s, ring: r)
                touched[r] = false
                touchedCount -= 1
            }
            closedBefore = s + 1
            silentChecks(before: s + 1)
            closeWindows(endingBefore: s + 1)
            s += 1
            if touchedCount == 0 && open.allSatisfy({ $0.isEmpty }) { break }
        }
        closedBefore = target
        factors.prune(closedBefore: slotStart(target))
        silentChecks(before: target)
    }

    /// Silent-meter rules at the window ends before slot `s` starts that no window closing with
    /// data evaluated (§5 data quality: a fleet-wide outage opens no window). Always at a slot
    /// boundary, before the windows ending there close, so however the watermark moved (one jump
    /// or many steps) the events come in the same order.
    @inline(__always)
    func silentChecks(before s: Int64) {
        if alertsTrackMeters && !finishing { alerts?.silentBefore(slotStart(s)) }
    }

    /// Sums slot `s` per profile (exactly), then applies the slot's factors and adds it to the open
    /// windows and the running totals, or, in a partition engine (§8), keeps the sums for the
    /// merger.
    func closeSlot(_ s: Int64, ring r: Int) {
        let base = cells + r * meterCount
        slotEnergy.withUnsafeMutableBufferPointer { pe in
            for p in 0..<pe.count { pe[p] = 0 }
            for m in 0..<meterCount {
                let e = base[m]
                if e != 0 {
                    pe[Int(profileOf[m])] += ExactSum.units(e)
                    base[m] = 0
                }
            }
        }
        if let so = scaleOut, so.isPartition {
            partitionSlotClosed(s, state: so)
            return
        }
        applySlot(s)
    }

    /// Applies the slot's factors to its per-profile energies (``slotEnergy``, exact) and adds
    /// them to the open windows and the running totals (budget rules see the slot too).
    func applySlot(_ s: Int64) {
        let start = slotStart(s), end = start + slotLen
        var regionFactor = [SlotFactor](repeating: SlotFactor(kgPerKWh: 0, realtimeShare: 0), count: Region.count)
        for reg in Region.provinces { regionFactor[reg] = factors.slotFactor(region: reg, start: start, end: end) }
        // The windows this slot belongs to.
        var accs: [WindowAccumulator] = []
        for li in 0..<windowLens.count {
            let w = Time.floorDiv(start &+ offset, windowLens[li])
            if let acc = open[li].first(where: { $0.index == w }) {
                accs.append(acc)
            } else if scaleOut != nil {
                // A merger: the window's counts come when every partition has closed it.
                accs.append(window(li, w))
            }
        }
        totals.beginSlot(start: start)
        let budgets = alerts.map { !$0.targets.isEmpty } ?? false
        if budgets && slotCO2.count != profileCount { slotCO2 = Array(repeating: 0, count: profileCount) }
        for p in 0..<profileCount {
            let e = slotEnergy[p]
            if e == 0 {
                if budgets { slotCO2[p] = 0 }
                continue
            }
            // The profile's exact energy, turned into a Double once; its emissions and real-time
            // energy rounded to units once.
            let f = regionFactor[profileRegion[p]]
            let ed = ExactSum.value(e)
            let c = ExactSum.units(ed * f.kgPerKWh)
            let rt = ExactSum.units(ed * f.realtimeShare)
            for acc in accs {
                acc.energy[p] += e
                acc.co2[p] += c
                acc.realtime[p] += rt
            }
            let cd = ExactSum.value(c)
            totals.add(profile: p, energy: ed, co2: cd)
            if budgets { slotCO2[p] = cd }
        }
        if budgets {
            slotCO2.withUnsafeBufferPointer { alerts!.slotClosed(s, start: start, end: end, co2: $0) }
        }
    }

    /// Closes (rolls up and emits) every open window that ends at or before slot `s`.
    func closeWindows(endingBefore s: Int64) {
        let t = slotStart(s)
        for li in 0..<windowLens.count {
            while let first = open[li].first, (first.index + 1) &* windowLens[li] &- offset <= t {
                open[li].removeFirst()
                if let r = recent[li], r.index == first.index { recent[li] = nil }
                emit(first)
                spare.append(first)
            }
        }
    }

    /// Rolls a window's profiles up to every level in one pass and hands the rows to the sink.
    func emit(_ acc: WindowAccumulator) {
        if let so = scaleOut, so.isPartition {
            partitionWindowClosed(acc, state: so)
            return
        }
        let len = windowLens[acc.lengthIndex]
        let start = acc.index &* len &- offset
        let sums = rollUpScratch
        let nl = levels.count
        for p in 0..<profileCount where acc.spans[p] > 0 {
            let e = acc.energy[p], c = acc.co2[p], rt = acc.realtime[p], m = acc.meters[p], n = acc.spans[p]
            let ks = keySlots + p * nl
            for l in 0..<nl {
                let k = Int(ks[l])
                if k < 0 { continue }
                sums[k].energy += e
                sums[k].co2 += c
                sums[k].realtime += rt
                sums[k].meters &+= m
                sums[k].spans &+= n
            }
        }
        var rows: [AggregateRow] = []
        for level in Level.outputOrder {
            guard let li = levels.firstIndex(of: level) else { continue }
            let base = levelBase[li]
            for key in sortedKeys[level.rawValue] {
                let v = sums[base + Int(key)]
                if v.spans > 0 {
                    rows.append(AggregateRow(level: level, key: key, energy: ExactSum.value(v.energy), co2: ExactSum.value(v.co2),
                                             realtimeEnergy: ExactSum.value(v.realtime), meters: v.meters, spans: v.spans))
                    sums[base + Int(key)] = RollUpSums()   // leave the scratch table zeroed for the next window
                }
            }
        }
        if rows.isEmpty { return }
        windowsClosed += 1
        let closed = ClosedWindow(lengthIndex: acc.lengthIndex, length: len, start: start, end: start + len, rows: rows)
        sink.windowClosed(closed)
        alerts?.windowClosed(closed)
    }
}

/// One key's sums while a window is rolled up (exact: ``ExactSum`` units).
struct RollUpSums {
    var energy: Int128 = 0, co2: Int128 = 0, realtime: Int128 = 0
    var meters: Int32 = 0, spans: Int32 = 0
}
