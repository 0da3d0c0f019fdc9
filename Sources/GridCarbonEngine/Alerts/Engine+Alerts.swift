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
            var w = ByteWriter()
            old.encode(&w)
            if let fresh {
                // The bytes were written just now by this build: they decode.
                try! ByteReader.read(w.bytes, context: "alert state") { try fresh.decode(&$0, apply: true) }
                fresh.resolveOrphans(from: old, at: watermark)
            } else {
                let gone = AlertEvaluator(settings: old.settings, engine: self.settings, registry: registry, sink: sink)
                try! ByteReader.read(w.bytes, context: "alert state") { try gone.decode(&$0, apply: true) }
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
        var w = ByteWriter()
        a.encode(&w)
        try! ByteReader.read(w.bytes, context: "alert state") { try fresh.decode(&$0, apply: true) }
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
}
