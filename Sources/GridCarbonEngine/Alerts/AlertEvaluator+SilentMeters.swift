import GridCarbonModel

/// `data_quality` rules with a silent-meter threshold: per province, the meters whose last reading
/// is older than `silent_after` at each window end.
extension AlertEvaluator {
    /// Meter of `region` was silent over `(from, to)`: count it at every window end in there that is
    /// not evaluated yet. Every window end gets evaluated (``silentBefore(_:)`` takes those no window
    /// closed at), so what is counted here is taken soon after.
    func silentGap(_ i: Int, lengthIndex li: Int, from: Micros, to: Micros, region: Int, openFrom: Micros) {
        let len = engine.windows[li], off = zone.offsetMicros
        var w = Time.floorDiv(max(from, silentEvaluated[i]) &+ off, len) + 1
        while true {
            let e = w * len - off
            if e >= to { break }
            silentPending[i][e, default: Array(repeating: 0, count: Region.count)][region] += 1
            w += 1
        }
    }

    /// Silent-meter rules at the window ends before `b` that no closed window evaluated: ends where
    /// no meter of the whole fleet sent anything, as in an outage, which open no window. In end
    /// order, then rule order, so the events do not depend on how the watermark got here.
    func silentBefore(_ b: Micros) {
        guard !silentRules.isEmpty else { return }
        var due: [(end: Micros, rule: Int)] = []
        let off = zone.offsetMicros
        for (i, sr) in silentRules.enumerated() {
            let len = engine.windows[sr.lengthIndex]
            let last = Time.floorDiv(b &+ off &- 1, len)
            // From the end after the last one evaluated; the first time, the latest end only; after
            // a gap of more than 10,000 windows, its last 10,000.
            var first = silentEvaluated[i] == Time.distantPast ? last : Time.floorDiv(silentEvaluated[i] &+ off, len) + 1
            first = max(first, last - 9_999)
            if first > last { continue }
            for w in first...last { due.append((w * len - off, i)) }
        }
        due.sort { ($0.end, $0.rule) < ($1.end, $1.rule) }
        for d in due where d.end > silentEvaluated[d.rule] {
            let len = engine.windows[silentRules[d.rule].lengthIndex]
            evaluateSilent(d.rule, start: d.end - len, end: d.end)
        }
    }

    /// Silent rule `i` at window end `e` (the window `[start, e)`): meters whose last reading is
    /// older than `silent_after` there, per province, plus those whose gap a later reading closed.
    func evaluateSilent(_ i: Int, start: Micros, end e: Micros) {
        let sr = silentRules[i]
        let rule = settings.rules[sr.rule]
        let w = (start: start, end: e)
        var counts = silentPending[i].removeValue(forKey: e) ?? Array(repeating: 0, count: Region.count)
        for k in silentPending[i].keys where k < e { silentPending[i][k] = nil }
        silentEvaluated[i] = e
        let limit = e - rule.silentAfter
        let regions = registry.index!.region
        for m in 0..<min(lastSeen.count, registry.liveCount) {
            let t = lastSeen[m]
            if t != Time.distantPast && t < limit { counts[Int(regions[m])] += 1 }
        }
        for r in Region.provinces {
            let value = Double(counts[r])
            let k = Self.alertKey(rule: sr.rule, item: Int64(r), sub: 0)
            let code = Region.codes[r]
            if active[k] == nil {
                if value >= rule.threshold {
                    fire(k, Active(id: alertID(rule: sr.rule, level: .province, key: code, period: "silent"), rule: sr.rule,
                                   severity: rule.severity, level: .province, key: code, windowStart: w.start, windowEnd: w.end,
                                   startsAt: e, value: value, threshold: rule.threshold,
                                   message: "province \(code): \(counts[r]) meters silent for more than \(DurationFormat.format(rule.silentAfter)) at \(TimeFormatter(zone: zone).string(e))"))
                }
            } else if value < rule.threshold * (1 - rule.hysteresis) {
                resolve(k, value: value, windowStart: w.start, windowEnd: w.end, at: e,
                        message: "province \(code): \(counts[r]) meters silent, below \(Self.fmt(rule.threshold))")
            }
        }
    }
}
