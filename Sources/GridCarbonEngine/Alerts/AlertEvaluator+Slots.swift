import GridCarbonModel

/// A slot close drives the budget and forecast rules: the slot's emissions go into each target's
/// to-date sums and ring, then every check that changes state acts, in check order.
extension AlertEvaluator {
    /// Slot `s` = `[start, end)` closed with `co2` kg per profile.
    func slotClosed(_ s: Int64, start: Micros, end: Micros, co2: UnsafeBufferPointer<Double>) {
        guard !targets.isEmpty else { return }
        rollOver(start)
        slotScratch.withUnsafeMutableBufferPointer { scratch in
            for t in scratch.indices { scratch[t] = 0 }
            profileTargetStart.withUnsafeBufferPointer { starts in
                profileTargets.withUnsafeBufferPointer { list in
                    for p in 0..<min(co2.count, starts.count - 1) where co2[p] != 0 {
                        for i in Int(starts[p])..<Int(starts[p + 1]) { scratch[Int(list[i])] += co2[p] }
                    }
                }
            }
            toDate.withUnsafeMutableBufferPointer { td in
                for t in scratch.indices {
                    let c = scratch[t]
                    td[t * 3] += c; td[t * 3 + 1] += c; td[t * 3 + 2] += c
                }
            }
        }
        fillGap(before: s)
        push(slot: s, values: slotScratch)
        let ends = (periodBounds(.day).1, periodBounds(.month).1, periodBounds(.year).1)
        // Most checks change nothing: find those that do in one pass over flat arrays, then act on
        // them in check order. Acting on a check changes only its own level and alert, so the
        // outcome is that of evaluating every check in turn.
        changing.removeAll(keepingCapacity: true)
        let nl = lookbacks.count
        toDate.withUnsafeBufferPointer { td in
            trailing.withUnsafeBufferPointer { tr in
                checkLevel.withUnsafeBufferPointer { lv in
                    checks.withUnsafeBufferPointer { ck in
                        for c in 0..<ck.count {
                            let check = ck[c]
                            let value = td[check.target * 3 + check.period]
                            let current = lv[c]
                            if check.forecast {
                                let periodEnd = check.period == 0 ? ends.0 : check.period == 1 ? ends.1 : ends.2
                                let firing = current > 0
                                if !firing && value >= check.budget { continue }
                                let (rate, projected) = Self.projection(toDate: value, trailing: Self.kg(milli: tr[check.target * nl + check.lookbackIndex]),
                                                                        lookbackHours: check.lookbackHours, end: end, periodEnd: periodEnd)
                                if firing ? (value < check.budget && projected < check.budget * (1 - check.hysteresis))
                                          : (projected >= check.budget && rate > 0) {
                                    changing.append(Int32(c))
                                }
                            } else if Self.budgetLevel(value, check) > current
                                        || (current > 0 && value < check.warnRatio * check.budget * (1 - check.hysteresis)) {
                                changing.append(Int32(c))
                            }
                        }
                    }
                }
            }
        }
        for c32 in changing {
            let c = Int(c32)
            let check = checks[c]
            let periodEnd = check.period == 0 ? ends.0 : check.period == 1 ? ends.1 : ends.2
            if check.forecast {
                evaluateForecast(c, check, end: end, periodEnd: periodEnd)
            } else {
                evaluateBudget(c, check, end: end)
            }
        }
    }
}
