import GridCarbonModel

/// The budget periods (local day, month, year) that to-date sums and budget and forecast alerts
/// belong to, and what happens when one ends.
extension AlertEvaluator {
    /// `[start, end)` of the current local day, month or year.
    func periodBounds(_ period: BudgetPeriod) -> (Micros, Micros) {
        let off = zone.offsetMicros
        func at(_ days: Int) -> Micros { Int64(days) * Time.microsPerDay - off }
        switch period {
        case .day: return (at(day), at(day + 1))
        case .month:
            let y = month / 12, m = month % 12 + 1
            return (at(Time.daysFromCivil(year: y, month: m, day: 1)),
                    at(m == 12 ? Time.daysFromCivil(year: y + 1, month: 1, day: 1) : Time.daysFromCivil(year: y, month: m + 1, day: 1)))
        case .year: return (at(Time.daysFromCivil(year: year, month: 1, day: 1)), at(Time.daysFromCivil(year: year + 1, month: 1, day: 1)))
        }
    }

    /// Starts the periods of a slot starting at `start`: the budget and forecast alerts of a period
    /// that ended resolve at its end, and its to-date sums start again from zero.
    func rollOver(_ start: Micros) {
        let d = zone.localDay(start)
        if d == day { return }
        let c = Time.civilFromDays(d)
        let mo = c.year * 12 + c.month - 1
        var ended: [Int] = []
        if day != Int.min { ended.append(0) }
        if month != Int.min && mo != month { ended.append(1) }
        if year != Int.min && c.year != year { ended.append(2) }
        for pi in ended {
            let period = BudgetPeriod.allCases[pi]
            let (ps, pe) = periodBounds(period)
            for k in active.keys.sorted() where Int(k & 7) == pi {
                let ri = Int(k >> 40)
                let kind = settings.rules[ri].kind
                guard kind == .budget || kind == .forecast else { continue }
                let t = Int((k >> 3) & 0x1_FFFF_FFFF)
                let total = toDate[t * 3 + pi]
                resolve(k, value: total, windowStart: ps, windowEnd: pe, at: pe,
                        message: "\(targets[t].level.name) \(targets[t].name): the \(period.rawValue) ended with \(Self.fmt(total)) kg")
            }
            for t in 0..<targets.count { toDate[t * 3 + pi] = 0 }
        }
        day = d; month = mo; year = c.year
    }
}
