import GridCarbonModel

extension Engine {
    /// Installs alert rules and budgets (§5). On an engine that already holds alert state (a reload),
    /// the state that still applies is kept by name: active alerts of rules that still exist,
    /// period-to-date sums of targets that still have budgets. Active alerts whose rule is gone
    /// resolve now. Call it at the same point of the input on every run (the daemon logs reloads).
    public func configureAlerts(_ settings: AlertSettings) {
        do { try settings.validate(engine: self.settings) } catch { preconditionFailure(error.message) }
        let old = alerts
        let fresh = settings.isEmpty ? nil : AlertEvaluator(settings: settings, engine: self.settings, registry: registry, sink: sink)
        if let old {
            var w = AlertStateWriter()
            old.encode(&w)
            if let fresh {
                var r = AlertStateReader(bytes: w.bytes)
                // The bytes were written just now by this build: they decode.
                try! fresh.decode(&r, apply: true)
                fresh.resolveOrphans(from: old, at: watermark)
            } else {
                let gone = AlertEvaluator(settings: old.settings, engine: self.settings, registry: registry, sink: sink)
                var r = AlertStateReader(bytes: w.bytes)
                try! gone.decode(&r, apply: true)
                for k in gone.active.keys.sorted() {
                    let a = gone.active[k]!
                    gone.resolve(k, value: a.value, windowStart: a.windowStart, windowEnd: a.windowEnd, at: max(watermark, a.startsAt),
                                 message: "rule \(old.settings.rules[a.rule].name) was removed from the configuration")
                }
                alertSeqCarry = gone.seq
            }
        }
        if let fresh, old == nil { fresh.seq = alertSeqCarry }
        // What is new starts from what the engine knows: budgets from the running totals, silent
        // meters from each meter's last reading.
        fresh?.seed(totals: totals, baseTs: baseTs, lastSeenKnown: old?.tracksMeters ?? false)
        alerts = fresh
        alertsTrackMeters = fresh?.tracksMeters ?? false
    }

    /// Takes over the alert state of `old` (the engine this one replaces after a registry reload):
    /// the same rules, the state by names, and each meter's last reading time through `meterMap`
    /// (old meter index → new index, or -1).
    func adoptAlerts(from old: Engine, meterMap: [Int]) {
        alertSeqCarry = old.alertSeqCarry
        guard let a = old.alerts else { return }
        let fresh = AlertEvaluator(settings: a.settings, engine: settings, registry: registry, sink: sink)
        var w = AlertStateWriter()
        a.encode(&w)
        var r = AlertStateReader(bytes: w.bytes)
        try! fresh.decode(&r, apply: true)
        if fresh.tracksMeters {
            // Meter indices changed: only the map says whose time is whose.
            for i in fresh.lastSeen.indices { fresh.lastSeen[i] = Time.distantPast }
            for (m, t) in meterMap.enumerated() where t >= 0 && m < a.lastSeen.count { fresh.lastSeen[t] = a.lastSeen[m] }
        }
        fresh.seed(totals: totals, baseTs: baseTs, lastSeenKnown: true)
        alerts = fresh
        alertsTrackMeters = fresh.tracksMeters
    }

    /// The alert rules in force.
    public var alertSettings: AlertSettings { alerts?.settings ?? AlertSettings() }

    /// The `seq` of the last alert event emitted.
    public var alertSeq: Int64 { alerts?.seq ?? alertSeqCarry }

    /// How many alerts are firing now.
    public var activeAlertCount: Int { alerts?.active.count ?? 0 }

    /// The alerts firing now, by id.
    public var activeAlerts: [AlertEvent] {
        guard let a = alerts else { return [] }
        return a.active.values.sorted { $0.id < $1.id }.map { x in
            let r = a.settings.rules[x.rule]
            return AlertEvent(seq: 0, id: x.id, rule: r.name, kind: r.kind, severity: x.severity, state: .firing, level: x.level,
                              key: x.key, value: x.value, threshold: x.threshold, windowStart: x.windowStart, windowEnd: x.windowEnd,
                              startsAt: x.startsAt, message: x.message, projected: x.projected, breachAt: x.breachAt)
        }
    }

    /// Alert state for the engine checkpoint: the seq, the rules and budgets in force, and the
    /// evaluator's state.
    func alertState() -> [UInt8] {
        var w = AlertStateWriter()
        w.i64(alertSeq)
        if let a = alerts {
            w.i64(1)
            a.settings.encode(&w)
            a.encode(&w)
        } else {
            w.i64(0)
        }
        return w.bytes
    }

    /// Restores ``alertState()``: the rules in force when the checkpoint was taken, with their
    /// state, whatever was configured before (the log after the checkpoint replays later changes).
    func restoreAlertState(_ bytes: [UInt8], apply: Bool) throws {
        var r = AlertStateReader(bytes: bytes)
        let seq = try r.i64()
        let has = try r.i64()
        var restored: AlertEvaluator?
        if has == 1 {
            let rules = try AlertSettings.decode(&r)
            do { try rules.validate(engine: settings) } catch { throw AlertStateError.corrupt("rules: \(error.message)") }
            let e = AlertEvaluator(settings: rules, engine: settings, registry: registry, sink: sink)
            try e.decode(&r, apply: true)
            restored = e
        }
        guard r.at == r.bytes.count else { throw AlertStateError.corrupt("\(r.bytes.count - r.at) bytes after the alert state") }
        if apply {
            alertSeqCarry = seq
            restored?.seq = seq
            alerts = restored
            alertsTrackMeters = restored?.tracksMeters ?? false
        }
    }
}

extension AlertEvaluator {
    /// Writes the state by names (see ``Engine/configureAlerts(_:)``).
    func encode(_ w: inout AlertStateWriter) {
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
    func decode(_ r: inout AlertStateReader, apply: Bool) throws {
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
        let n = try r.count()
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
        let nt = try r.count()
        for _ in 0..<nt {
            let levelRaw = try r.i64(), name = try r.string()
            let periods = [try r.f64(), try r.f64(), try r.f64()]
            let ne = try r.count()
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
        let nm = try r.count()
        var seenValues: [Micros] = []
        for _ in 0..<nm { seenValues.append(try r.i64()) }
        let ns = try r.count()
        var pending = silentPending, evaluated = silentEvaluated
        for _ in 0..<ns {
            let name = try r.string(), ev = try r.i64()
            let ne = try r.count()
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
        let nq = try r.count()
        var qualityValues = quality
        for _ in 0..<nq {
            let len = try r.i64()
            let nr = try r.count()
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

extension AlertSettings {
    func encode(_ w: inout AlertStateWriter) {
        w.i64(Int64(rules.count))
        for r in rules {
            w.string(r.name); w.string(r.kind.rawValue); w.string(r.severity.rawValue)
            w.i64(Int64(r.level?.rawValue ?? -1)); w.string(r.key ?? ""); w.i64(r.key == nil ? 0 : 1)
            w.i64(r.window ?? -1); w.f64(r.threshold); w.f64(r.hysteresis); w.f64(r.warnRatio)
            w.string(r.period?.rawValue ?? ""); w.i64(r.lookback); w.i64(r.silentAfter); w.f64(r.maxAnomalyRate ?? .nan)
        }
        w.i64(Int64(budgets.count))
        for b in budgets { w.i64(Int64(b.level.rawValue)); w.string(b.key); w.string(b.period.rawValue); w.f64(b.kg) }
    }

    static func decode(_ r: inout AlertStateReader) throws -> AlertSettings {
        var s = AlertSettings()
        for _ in 0..<(try r.count()) {
            let name = try r.string()
            guard let kind = AlertKind(rawValue: try r.string()), let severity = AlertSeverity(rawValue: try r.string()) else {
                throw AlertStateError.corrupt("rule \(name)")
            }
            var rule = AlertRule(name: name, kind: kind)
            rule.severity = severity
            let level = try r.i64()
            rule.level = level < 0 ? nil : Level(rawValue: Int(level))
            let key = try r.string()
            rule.key = try r.i64() == 1 ? key : nil
            let window = try r.i64()
            rule.window = window < 0 ? nil : window
            rule.threshold = try r.f64(); rule.hysteresis = try r.f64(); rule.warnRatio = try r.f64()
            rule.period = BudgetPeriod(rawValue: try r.string())
            rule.lookback = try r.i64(); rule.silentAfter = try r.i64()
            let rate = try r.f64()
            rule.maxAnomalyRate = rate.isNaN ? nil : rate
            s.rules.append(rule)
        }
        for _ in 0..<(try r.count()) {
            let level = try r.i64(), key = try r.string(), period = try r.string(), kg = try r.f64()
            guard let l = Level(rawValue: Int(level)), let p = BudgetPeriod(rawValue: period) else { throw AlertStateError.corrupt("budget \(key)") }
            s.budgets.append(Budget(level: l, key: key, period: p, kg: kg))
        }
        return s
    }
}

/// Little-endian writer for the alert state.
struct AlertStateWriter {
    var bytes: [UInt8] = []
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f64(_ v: Double) { i64(Int64(bitPattern: v.bitPattern)) }
    mutating func string(_ s: String) { let u = Array(s.utf8); i64(Int64(u.count)); bytes.append(contentsOf: u) }
}

/// Reader for ``AlertStateWriter``'s bytes; every read is bounds-checked.
struct AlertStateReader {
    let bytes: [UInt8]
    var at = 0
    mutating func i64() throws -> Int64 {
        guard at + 8 <= bytes.count else { throw AlertStateError.corrupt("a number at byte \(at)") }
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: Int64.self) }
        at += 8
        return Int64(littleEndian: v)
    }
    mutating func f64() throws -> Double { Double(bitPattern: UInt64(bitPattern: try i64())) }
    mutating func count() throws -> Int {
        let n = try i64()
        guard n >= 0 && n <= Int64(bytes.count - at) else { throw AlertStateError.corrupt("a count at byte \(at)") }
        return Int(n)
    }
    mutating func string() throws -> String {
        let n = try count()
        defer { at += n }
        return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
    }
}
