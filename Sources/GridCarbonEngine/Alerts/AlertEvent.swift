import GridCarbonModel

/// The kind of an alert rule (§5).
public enum AlertKind: String, Sendable, CaseIterable, Equatable {
    case intensity
    case budget
    case forecast
    case dataQuality = "data_quality"
}

/// How serious an alert is.
public enum AlertSeverity: String, Sendable, CaseIterable, Equatable, Comparable {
    case info, warning, critical

    var rank: Int { self == .info ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// Whether an alert is active.
public enum AlertState: String, Sendable, Equatable {
    case firing, resolved
}

/// One alert event (§5): an alert began firing, changed severity, or resolved.
///
/// Every time is event time (the data's own clock), so `replay` and `serve` over the same lines
/// raise the same events. `seq` increases by one per event the engine emits and is checkpointed.
public struct AlertEvent: Sendable, Equatable {
    /// Position in the alert log: 1, 2, 3, … for the life of a data folder.
    public var seq: Int64
    /// Stable id: `rule/level/key/period` (period: the window length for `intensity` and
    /// `data_quality`, `day|month|year` for `budget` and `forecast`).
    public var id: String
    public var rule: String
    public var kind: AlertKind
    public var severity: AlertSeverity
    public var state: AlertState
    public var level: Level
    public var key: String
    /// The measured value: intensity (kg/kWh), period-to-date or projected emissions (kg), a
    /// count of silent meters or an anomaly rate.
    public var value: Double
    public var threshold: Double
    /// The window (or budget period) the value belongs to.
    public var windowStart: Micros
    public var windowEnd: Micros
    /// When the alert began firing (event time); unchanged by severity changes.
    public var startsAt: Micros
    /// When it resolved (event time).
    public var endsAt: Micros?
    public var message: String
    /// `forecast`: the projected period total (kg) and the estimated time the budget is reached.
    public var projected: Double?
    public var breachAt: Micros?

    public init(seq: Int64, id: String, rule: String, kind: AlertKind, severity: AlertSeverity, state: AlertState,
                level: Level, key: String, value: Double, threshold: Double, windowStart: Micros, windowEnd: Micros,
                startsAt: Micros, endsAt: Micros? = nil, message: String, projected: Double? = nil, breachAt: Micros? = nil) {
        self.seq = seq; self.id = id; self.rule = rule; self.kind = kind; self.severity = severity
        self.state = state; self.level = level; self.key = key; self.value = value; self.threshold = threshold
        self.windowStart = windowStart; self.windowEnd = windowEnd; self.startsAt = startsAt; self.endsAt = endsAt
        self.message = message; self.projected = projected; self.breachAt = breachAt
    }
}

extension AlertEvent {
    /// The event as one NDJSON line (with the newline), the form of the alert log, the API and
    /// Server-Sent Events:
    /// `{"seq":1,"id":…,"rule":…,"kind":…,"severity":…,"state":…,"level":…,"key":…,"value":…,
    /// "threshold":…,"window_start":…,"window_end":…,"starts_at":…,"ends_at":…|null,"message":…}`
    /// plus `"projected_kg"` and `"breach_at"` for forecasts. Numbers are printed like the
    /// aggregate files (`%.6f`, trailing zeros dropped).
    public func json(zone: Zone) -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(384)
        append(to: &b, formatter: TimeFormatter(zone: zone))
        return b
    }

    /// Appends ``json(zone:)``'s line to `b` (a log writing many events keeps one formatter).
    public func append(to b: inout [UInt8], formatter tf: TimeFormatter) {
        b.append(contentsOf: "{\"seq\":".utf8)
        NumberFormat.appendInt(Int(seq), &b)
        b.append(0x2C)
        JSONBytes.appendKey("id", to: &b); JSONBytes.appendString(id, to: &b); b.append(0x2C)
        JSONBytes.appendKey("rule", to: &b); JSONBytes.appendString(rule, to: &b); b.append(0x2C)
        b.append(contentsOf: "\"kind\":\"".utf8); b.append(contentsOf: kind.rawValue.utf8)
        b.append(contentsOf: "\",\"severity\":\"".utf8); b.append(contentsOf: severity.rawValue.utf8)
        b.append(contentsOf: "\",\"state\":\"".utf8); b.append(contentsOf: state.rawValue.utf8)
        b.append(contentsOf: "\",\"level\":\"".utf8); b.append(contentsOf: level.name.utf8)
        b.append(contentsOf: "\",".utf8)
        JSONBytes.appendKey("key", to: &b); JSONBytes.appendString(key, to: &b); b.append(0x2C)
        JSONBytes.appendKey("value", to: &b); Self.number(value, &b); b.append(0x2C)
        JSONBytes.appendKey("threshold", to: &b); Self.number(threshold, &b); b.append(0x2C)
        JSONBytes.appendKey("window_start", to: &b); Self.time(windowStart, tf, &b); b.append(0x2C)
        JSONBytes.appendKey("window_end", to: &b); Self.time(windowEnd, tf, &b); b.append(0x2C)
        JSONBytes.appendKey("starts_at", to: &b); Self.time(startsAt, tf, &b); b.append(0x2C)
        JSONBytes.appendKey("ends_at", to: &b)
        if let endsAt { Self.time(endsAt, tf, &b) } else { b.append(contentsOf: "null".utf8) }
        b.append(0x2C)
        JSONBytes.appendKey("message", to: &b); JSONBytes.appendString(message, to: &b)
        if let projected {
            b.append(0x2C); JSONBytes.appendKey("projected_kg", to: &b); Self.number(projected, &b)
        }
        if let breachAt {
            b.append(0x2C); JSONBytes.appendKey("breach_at", to: &b); Self.time(breachAt, tf, &b)
        }
        b.append(contentsOf: "}\n".utf8)
    }

    static func number(_ v: Double, _ b: inout [UInt8]) {
        if v.isFinite { NumberFormat.append(v, to: &b) } else { b.append(contentsOf: "null".utf8) }
    }

    static func time(_ t: Micros, _ tf: TimeFormatter, _ b: inout [UInt8]) {
        b.append(0x22); tf.append(t, to: &b); b.append(0x22)
    }
}
