import GridCarbonModel

/// The evaluator's shared core: the state of an active alert, the internal keys and ids alerts go
/// by, and the firing and resolving that every rule kind ends in.
extension AlertEvaluator {
    /// An alert that is firing, as the evaluator keeps it.
    struct Active {
        var id: String
        var rule: Int
        var severity: AlertSeverity
        var level: Level
        var key: String
        var windowStart: Micros
        var windowEnd: Micros
        var startsAt: Micros
        var value: Double
        var threshold: Double
        var message: String
        var projected: Double?
        var breachAt: Micros?
    }

    /// The internal key of an alert: rule, then a key, target or region, then a sub-kind.
    @inline(__always)
    static func alertKey(rule: Int, item: Int64, sub: Int) -> Int64 {
        Int64(rule) << 40 | item << 3 | Int64(sub)
    }

    /// The window length of index `li` as alert ids and messages spell it (`15m`, `1h`).
    func periodLabel(_ li: Int) -> String { DurationFormat.format(engine.windows[li]) }

    /// The stable alert id `rule/level/key/period`.
    func alertID(rule: Int, level: Level, key: String, period: String) -> String {
        "\(settings.rules[rule].name)/\(level.name)/\(key)/\(period)"
    }

    /// Emits a firing event for `a` (new or changed severity) and records it.
    func fire(_ k: Int64, _ a: Active) {
        active[k] = a
        emit(a, state: .firing, endsAt: nil)
    }

    /// Emits the resolution of the alert at `k` with the value that resolved it.
    func resolve(_ k: Int64, value: Double, windowStart: Micros, windowEnd: Micros, at t: Micros, message: String) {
        guard var a = active.removeValue(forKey: k) else { return }
        if let c = checkOfKey[k] { checkLevel[c] = 0 }
        a.value = value
        a.windowStart = windowStart
        a.windowEnd = windowEnd
        a.message = message
        a.projected = nil
        a.breachAt = nil
        emit(a, state: .resolved, endsAt: t)
    }

    /// Hands one event to the sink with the next `seq`.
    func emit(_ a: Active, state: AlertState, endsAt: Micros?) {
        seq += 1
        let r = settings.rules[a.rule]
        sink.alert(AlertEvent(seq: seq, id: a.id, rule: r.name, kind: r.kind, severity: a.severity, state: state,
                              level: a.level, key: a.key, value: a.value, threshold: a.threshold,
                              windowStart: a.windowStart, windowEnd: a.windowEnd, startsAt: a.startsAt, endsAt: endsAt,
                              message: a.message, projected: a.projected, breachAt: a.breachAt))
    }

    /// A number as the alert messages print it (``NumberFormat``).
    static func fmt(_ v: Double) -> String {
        var b: [UInt8] = []
        NumberFormat.append(v, to: &b)
        return String(decoding: b, as: UTF8.self)
    }
}
