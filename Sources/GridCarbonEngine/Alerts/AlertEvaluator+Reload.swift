import GridCarbonModel

/// What an evaluator that takes over from another (a reload, a restore) starts from.
extension AlertEvaluator {
    /// Starts targets that no earlier state covered from the running totals (a budget added in
    /// November counts the year so far), and, when no earlier evaluator tracked meters, each
    /// meter's last time from its last register reading.
    func seed(totals: RunningTotals, baseTs: UnsafeMutablePointer<Int64>, lastSeenKnown: Bool) {
        if !targets.isEmpty && totals.day != Int.min {
            if day == Int.min || day != totals.day {
                day = totals.day; month = totals.month; year = totals.year
                seeded = []
                for i in toDate.indices { toDate[i] = 0 }
            }
            for p in 0..<registry.profiles.count where p < totals.dayTotals.count {
                var i = Int(profileTargetStart[p])
                while i < Int(profileTargetStart[p + 1]) {
                    let t = Int(profileTargets[i])
                    i += 1
                    if seeded.contains(t) { continue }
                    toDate[t * 3] += totals.dayTotals[p].co2
                    toDate[t * 3 + 1] += totals.monthTotals[p].co2
                    toDate[t * 3 + 2] += totals.yearTotals[p].co2
                }
            }
        }
        if tracksMeters && !lastSeenKnown && !lastSeenSeeded {
            for m in 0..<lastSeen.count { lastSeen[m] = baseTs[m] }
        }
    }

    /// After a reload: alerts of the old evaluator that no rule here carries on resolve now.
    func resolveOrphans(from old: AlertEvaluator, at t: Micros) {
        let kept = Set(active.values.map(\.id))
        for k in old.active.keys.sorted() {
            let a = old.active[k]!
            guard !kept.contains(a.id) else { continue }
            // Emit through this evaluator so seq continues; the rule is looked up in the old settings.
            seq += 1
            let r = old.settings.rules[a.rule]
            sink.alert(AlertEvent(seq: seq, id: a.id, rule: r.name, kind: r.kind, severity: a.severity, state: .resolved,
                                  level: a.level, key: a.key, value: a.value, threshold: a.threshold,
                                  windowStart: a.windowStart, windowEnd: a.windowEnd, startsAt: a.startsAt, endsAt: max(t, a.startsAt),
                                  message: "rule \(r.name) no longer applies to \(a.level.name) \(a.key) (configuration reloaded)"))
        }
    }
}
