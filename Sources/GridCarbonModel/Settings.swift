/// The engine's settings (§3, §7); every default is the one the specification names.
public struct EngineSettings: Sendable, Equatable {
    /// The zone windows are aligned to.
    public var zone: Zone = .shanghai
    /// Slot length (default 15 min).
    public var slot: Micros = 15 * Time.microsPerMinute
    /// Window lengths, each a whole number of slots (default `15m,1h,1d`).
    public var windows: [Micros] = [15 * Time.microsPerMinute, Time.microsPerHour, Time.microsPerDay]
    /// Aggregation levels (default: all but `meter`).
    public var levels: [Level] = Level.defaults
    /// How far behind the newest meter record the watermark trails (default 15 min).
    public var reorderWindow: Micros = 15 * Time.microsPerMinute
    /// How long after its end a slot stays open for long spans (default 1 h).
    public var spanHorizon: Micros = Time.microsPerHour
    /// Register gaps longer than this raise a `meter_gap` anomaly (default 24 h).
    public var maxGap: Micros = Time.microsPerDay
    /// Meter records further than this ahead of the wall clock are rejected (default 15 min).
    public var maxFuture: Micros = 15 * Time.microsPerMinute

    public init() {}

    /// Checks the settings fit together.
    /// - Throws: ``SettingsError`` naming the first setting that does not, for the operator.
    public func validate() throws(SettingsError) {
        if slot <= 0 || Time.microsPerDay % slot != 0 { throw SettingsError(.resolution, "resolution must divide a day evenly (got \(DurationFormat.format(slot)))") }
        if windows.isEmpty { throw SettingsError(.windows, "at least one window length is needed") }
        for w in windows where w <= 0 || w % slot != 0 {
            throw SettingsError(.windows, "window \(DurationFormat.format(w)) is not a whole number of \(DurationFormat.format(slot)) slots")
        }
        for w in windows where w > Time.microsPerDay && w % Time.microsPerDay != 0 {
            throw SettingsError(.windows, "window \(DurationFormat.format(w)) longer than a day must be whole days")
        }
        if Set(windows).count != windows.count { throw SettingsError(.windows, "window lengths repeat") }
        if levels.isEmpty { throw SettingsError(.levels, "at least one level is needed") }
        if reorderWindow < 0 || spanHorizon < 0 || maxGap <= 0 || maxFuture < 0 { throw SettingsError(.duration, "durations must not be negative") }
    }
}
