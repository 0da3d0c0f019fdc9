import GridCarbonModel

/// `data_quality` rules: what every record tells them (the meter's last reading, register readings
/// and anomalies per window and province), and their evaluation at a closed window: silent meters
/// (AlertEvaluator+SilentMeters.swift) and the anomaly rate of register readings, per province.
extension AlertEvaluator {
    /// Per window length: register readings and anomalies of one window, per region.
    struct QualityCounts {
        var window: Int64 = .min
        var readings: [Int32]
        var anomalies: [Int32]
    }

    /// Starts the per-meter and per-window state data-quality rules need.
    func startTrackingMeters() {
        lastSeen = Array(repeating: Time.distantPast, count: registry.count)
        silentPending = silentRules.map { _ in [:] }
        silentEvaluated = silentRules.map { _ in Time.distantPast }
        qualityRing = engine.windows.map { len in
            var n = 16
            while Int64(n) < (engine.spanHorizon + engine.reorderWindow) / len + 4 { n <<= 1 }
            return n
        }
        quality = engine.windows.indices.map { li in
            Array(repeating: QualityCounts(readings: Array(repeating: 0, count: Region.count), anomalies: Array(repeating: 0, count: Region.count)), count: qualityRing[li])
        }
    }

    /// A record of meter `m` was processed: `at` is its time (`ts`; `end` for an interval), the
    /// time the meter was last heard from; `anomaly` when it raised one. `openFrom` is the start
    /// of the first slot not closed yet: windows ending at or before it are evaluated already.
    @inline(__always)
    func seen(meter m: Int, at t1: Micros, region: Int, register: Bool, anomaly: Bool, openFrom: Micros) {
        let t0 = lastSeen[m]
        lastSeen[m] = t1
        if t0 != Time.distantPast {
            for (i, sr) in silentRules.enumerated() {
                let sa = settings.rules[sr.rule].silentAfter
                if t1 - t0 > sa { silentGap(i, lengthIndex: sr.lengthIndex, from: t0 + sa, to: t1, region: region, openFrom: openFrom) }
            }
        }
        if register && !anomalyRules.isEmpty {
            for li in anomalyLengths {
                let w = Time.floorDiv(t1 &+ zone.offsetMicros, engine.windows[li])
                let slot = Int(UInt64(bitPattern: w) % UInt64(qualityRing[li]))
                if quality[li][slot].window != w {
                    quality[li][slot].window = w
                    for r in 0..<Region.count { quality[li][slot].readings[r] = 0; quality[li][slot].anomalies[r] = 0 }
                }
                quality[li][slot].readings[region] += 1
                if anomaly { quality[li][slot].anomalies[region] += 1 }
            }
        }
    }

    /// A window closed: the silent-meter rules of its length at its end, then the anomaly-rate
    /// rules over the register readings inside it.
    func evaluateQuality(_ w: ClosedWindow) {
        for (i, sr) in silentRules.enumerated() where sr.lengthIndex == w.lengthIndex && w.end > silentEvaluated[i] {
            evaluateSilent(i, start: w.start, end: w.end)
        }
        for ar in anomalyRules where ar.lengthIndex == w.lengthIndex {
            let rule = settings.rules[ar.rule]
            let limit = rule.maxAnomalyRate ?? 1
            let index = Time.floorDiv(w.start &+ zone.offsetMicros, engine.windows[w.lengthIndex])
            let q = quality[w.lengthIndex][Int(UInt64(bitPattern: index) % UInt64(qualityRing[w.lengthIndex]))]
            guard q.window == index else { continue }
            for r in Region.provinces where q.readings[r] > 0 {
                let value = Double(q.anomalies[r]) / Double(q.readings[r])
                let k = Self.alertKey(rule: ar.rule, item: Int64(r), sub: 1)
                let code = Region.codes[r]
                if active[k] == nil {
                    if value > limit {
                        fire(k, Active(id: alertID(rule: ar.rule, level: .province, key: code, period: "anomaly_rate"), rule: ar.rule,
                                       severity: rule.severity, level: .province, key: code, windowStart: w.start, windowEnd: w.end,
                                       startsAt: w.end, value: value, threshold: limit,
                                       message: "province \(code): \(q.anomalies[r]) anomalies in \(q.readings[r]) register readings (\(Self.fmt(value * 100))%) over \(periodLabel(w.lengthIndex))"))
                    }
                } else if value < limit * (1 - rule.hysteresis) {
                    resolve(k, value: value, windowStart: w.start, windowEnd: w.end, at: w.end,
                            message: "province \(code): anomaly rate \(Self.fmt(value * 100))% is back below \(Self.fmt(limit * 100))%")
                }
            }
        }
    }
}
