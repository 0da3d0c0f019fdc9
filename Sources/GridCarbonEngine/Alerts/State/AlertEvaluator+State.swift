import GridCarbonModel

/// The evaluator's state by names, for the engine checkpoint and for handing state from one
/// evaluator to the next on a reload.
extension AlertEvaluator {
    /// Writes the state by names (see ``Engine/configureAlerts(_:)``).
    func encode(_ w: inout ByteWriter) {
        w.i64(seq)
        let keys = active.keys.sorted()
        w.i64(Int64(keys.count))
        for k in keys {
            let a = active[k]!
            let rule = settings.rules[a.rule]
            w.string(rule.name); w.i64(Int64(k & 7))
            w.string(a.id); w.i64(Int64(a.severity.rank)); w.i64(Int64(a.level.rawValue)); w.string(a.key)
            w.i64(a.windowStart); w.i64(a.windowEnd); w.i64(a.startsAt)
            w.f64(a.value); w.f64(a.threshold); w.string(a.message)
            w.f64(a.projected ?? .nan); w.i64(a.breachAt ?? .min)
        }
        w.i64(Int64(day)); w.i64(Int64(month)); w.i64(Int64(year))
        w.i64(Int64(targets.count))
        for (t, target) in targets.enumerated() {
            w.i64(Int64(target.level.rawValue)); w.string(target.name)
            for pi in 0..<3 { w.f64(toDate[t * 3 + pi]) }
            var entries: [(Int64, Double)] = []
            for i in 0..<ringSize where ringSlot[t * ringSize + i] != .min {
                entries.append((ringSlot[t * ringSize + i], ring[t * ringSize + i]))
            }
            entries.sort { $0.0 < $1.0 }
            w.i64(Int64(entries.count))
            for (s, v) in entries { w.i64(s); w.f64(v) }
        }
        w.i64(Int64(lastSeen.count))
        for v in lastSeen { w.i64(v) }
        w.i64(Int64(silentRules.count))
        for (i, sr) in silentRules.enumerated() {
            w.string(settings.rules[sr.rule].name)
            w.i64(silentEvaluated[i])
            let ends = silentPending[i].keys.sorted()
            w.i64(Int64(ends.count))
            for e in ends { w.i64(e); for c in silentPending[i][e]! { w.i64(Int64(c)) } }
        }
        w.i64(Int64(quality.count))
        for (li, list) in quality.enumerated() {
            w.i64(engine.windows[li])
            w.i64(Int64(list.count))
            for q in list {
                w.i64(q.window)
                for c in q.readings { w.i64(Int64(c)) }
                for c in q.anomalies { w.i64(Int64(c)) }
            }
        }
    }

    /// Reads ``encode(_:)``'s bytes; with `apply`, keeps what matches the rules and budgets here.
    func decode(_ r: inout ByteReader, apply: Bool) throws {
        let savedSeq = try r.i64()
        var keyByName: [Level: [String: Int32]] = [:]
        func keyIndex(_ level: Level, _ name: String) -> Int32? {
            if keyByName[level] == nil {
                var d: [String: Int32] = [:]
                for (i, n) in registry.keyNames[level.rawValue].enumerated() { d[n] = Int32(i) }
                keyByName[level] = d
            }
            return keyByName[level]![name]
        }
        var targetIndex: [String: Int] = [:]
        for (t, target) in targets.enumerated() { targetIndex["\(target.level.rawValue)/\(target.name)"] = t }
        func target(_ level: Level, _ name: String) -> Int? { targetIndex["\(level.rawValue)/\(name)"] }
        var ruleIndex: [String: Int] = [:]
        for (i, rule) in settings.rules.enumerated() { ruleIndex[rule.name] = i }
        var restored: [Int64: Active] = [:]
        let n = try r.count(each: 1, "entries")
        for _ in 0..<n {
            let ruleName = try r.string(), sub = Int(try r.i64())
            let id = try r.string(), sevRank = try r.i64(), levelRaw = try r.i64(), key = try r.string()
            let ws = try r.i64(), we = try r.i64(), starts = try r.i64()
            let value = try r.f64(), threshold = try r.f64(), message = try r.string()
            let projected = try r.f64(), breach = try r.i64()
            guard let level = Level(rawValue: Int(levelRaw)), let severity = AlertSeverity.allCases.first(where: { Int64($0.rank) == sevRank }),
                  (0..<8).contains(sub) else { throw AlertStateError.corrupt("active alert \(id)") }
            // Kept only when the rule here still raises exactly this alert; the rest resolve on a
            // reload (``resolveOrphans``).
            guard let ri = ruleIndex[ruleName] else { continue }
            let rule = settings.rules[ri]
            let item: Int64?
            let expected: String?
            switch rule.kind {
            case .intensity:
                let ir = intensity.first { $0.rule == ri }
                item = keyIndex(level, key).map(Int64.init)
                expected = ir.flatMap { ir in
                    ir.level == level && (ir.key == -1 || Int64(ir.key) == item) ? alertID(rule: ri, level: level, key: key, period: periodLabel(ir.lengthIndex)) : nil
                }
            case .budget, .forecast:
                item = target(level, key).map(Int64.init)
                expected = item.flatMap { checkOfKey[Self.alertKey(rule: ri, item: $0, sub: sub)] }.map { _ in
                    alertID(rule: ri, level: level, key: key, period: BudgetPeriod.allCases[min(sub, 2)].rawValue)
                }
            case .dataQuality:
                item = level == .province ? Region.codes.firstIndex(of: key).map(Int64.init) : nil
                let kept = sub == 0 ? silentRules.contains { $0.rule == ri } : sub == 1 && anomalyRules.contains { $0.rule == ri }
                expected = kept ? alertID(rule: ri, level: .province, key: key, period: sub == 0 ? "silent" : "anomaly_rate") : nil
            }
            guard let item, id == expected else { continue }
            restored[Self.alertKey(rule: ri, item: item, sub: sub)] = Active(
                id: id, rule: ri, severity: severity, level: level, key: key, windowStart: ws, windowEnd: we, startsAt: starts,
                value: value, threshold: threshold, message: message, projected: projected.isNaN ? nil : projected,
                breachAt: breach == .min ? nil : breach)
        }
        let d = try r.i64(), mo = try r.i64(), y = try r.i64()
        var restoredTargets = Set<Int>()
        var sums = toDate, ringValues = ring, ringSlots = ringSlot
        let nt = try r.count(each: 1, "entries")
        for _ in 0..<nt {
            let levelRaw = try r.i64(), name = try r.string()
            let periods = [try r.f64(), try r.f64(), try r.f64()]
            let ne = try r.count(each: 1, "entries")
            var entries: [(Int64, Double)] = []
            for _ in 0..<ne { entries.append((try r.i64(), try r.f64())) }
            guard let level = Level(rawValue: Int(levelRaw)) else { throw AlertStateError.corrupt("budget target \(name)") }
            guard let t = target(level, name) else { continue }
            restoredTargets.insert(t)
            for pi in 0..<3 { sums[t * 3 + pi] = periods[pi] }
            for (s, v) in entries where ringSize > 0 {
                let i = t * ringSize + Int(UInt64(bitPattern: s) % UInt64(ringSize))
                // Into a shorter ring (a lookback shortened on reload) the newest slot wins.
                if s > ringSlots[i] { ringValues[i] = v; ringSlots[i] = s }
            }
        }
        let nm = try r.count(each: 1, "entries")
        var seenValues: [Micros] = []
        for _ in 0..<nm { seenValues.append(try r.i64()) }
        let ns = try r.count(each: 1, "entries")
        var pending = silentPending, evaluated = silentEvaluated
        for _ in 0..<ns {
            let name = try r.string(), ev = try r.i64()
            let ne = try r.count(each: 1, "entries")
            var entries: [Micros: [Int32]] = [:]
            for _ in 0..<ne {
                let e = try r.i64()
                var counts: [Int32] = []
                for _ in 0..<Region.count { counts.append(Int32(truncatingIfNeeded: try r.i64())) }
                entries[e] = counts
            }
            if let i = silentRules.firstIndex(where: { settings.rules[$0.rule].name == name }) {
                pending[i] = entries; evaluated[i] = ev
            }
        }
        let nq = try r.count(each: 1, "entries")
        var qualityValues = quality
        for _ in 0..<nq {
            let len = try r.i64()
            let nr = try r.count(each: 1, "entries")
            var list: [QualityCounts] = []
            for _ in 0..<nr {
                let w = try r.i64()
                var q = QualityCounts(window: w, readings: [], anomalies: [])
                for _ in 0..<Region.count { q.readings.append(Int32(truncatingIfNeeded: try r.i64())) }
                for _ in 0..<Region.count { q.anomalies.append(Int32(truncatingIfNeeded: try r.i64())) }
                list.append(q)
            }
            if let li = engine.windows.firstIndex(of: len), li < qualityValues.count, list.count == qualityValues[li].count { qualityValues[li] = list }
        }
        guard apply else { return }
        seeded = restoredTargets
        seq = savedSeq
        active = restored
        for i in checkLevel.indices { checkLevel[i] = 0 }
        for (k, a) in restored {
            if let c = checkOfKey[k] { checkLevel[c] = checks[c].forecast ? 1 : (a.severity == .critical ? 2 : 1) }
        }
        day = Int(d); month = Int(mo); year = Int(y)
        toDate = sums; ring = ringValues; ringSlot = ringSlots
        ringLast = ringSlots.max().flatMap { $0 == .min ? nil : $0 } ?? .min
        recomputeTrailing()
        if tracksMeters && seenValues.count == lastSeen.count { lastSeen = seenValues; lastSeenSeeded = true }
        silentPending = pending; silentEvaluated = evaluated
        quality = qualityValues
    }
}
