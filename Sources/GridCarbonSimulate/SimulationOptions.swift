import GridCarbonModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The record file formats of §2.2.
public enum RecordFormat: String, Sendable, CaseIterable {
    /// `r,meter,ts,kwh` and friends, one per line.
    case csv
    /// `{"kind":"r","meter":"M1","ts":"...","kwh":1.5}` and friends, one per line.
    case ndjson
}

/// What `gridcarbon simulate` generates. Rates are probabilities per meter record; durations are
/// microseconds (whole seconds).
public struct SimulationOptions: Sendable, Equatable {
    /// Number of meters in the fleet.
    public var meters: Int = 1000
    /// Number of local days to simulate, starting at ``startDay`` 00:00.
    public var days: Int = 1
    /// First local day (days since 1970-01-01 in ``zone``).
    public var startDay: Int
    /// Nominal reading interval; divides a day.
    public var interval: Micros = 15 * Time.microsPerMinute
    /// PRNG seed: the same options and seed give the same bytes.
    public var seed: UInt64 = 42
    public var format: RecordFormat = .csv
    /// Each record arrives `uniform[0, disorder)` after its event time (`ts`, or `end` for `i`);
    /// records are written in arrival order. Must stay below the engine's 15-minute reorder window.
    public var disorder: Micros = 0
    /// Each register reading is taken `uniform[0, jitter)` after its nominal time. Below ``interval``.
    public var jitter: Micros = 0
    /// Fraction of meter records written twice (the repeat a few lines later).
    public var duplicates: Double = 0
    /// Fraction of register readings preceded by a meter replacement (the register drops to ~0).
    public var resets: Double = 0
    /// Fraction of meter records after which the meter goes silent for 1–6 h (its register still advances).
    public var gaps: Double = 0
    /// Malformed lines injected per meter record (bad number, bad timestamp, unknown meter,
    /// too few fields, garbage bytes, bad kind).
    public var badLines: Double = 0
    /// Fraction of meters that send `i` interval records instead of `r` register readings.
    public var intervalShare: Double = 0
    /// Hourly `f` factors for a few provinces and `m` generation mix for a few others.
    public var factorFeeds: Bool = true
    /// Spell about 10 % of timestamps as Unix seconds and 10 % in UTC with `Z`.
    public var mixedTimestamps: Bool = false
    /// The zone days start in and timestamps are written in.
    public var zone: Zone = .shanghai
    /// Meters arrive grouped by data concentrator, concentrators interleaved, in no relation to
    /// registry order (``Collectors``); with ``mixedTimestamps`` each concentrator keeps one
    /// spelling. Off: every interval's readings in registry order.
    public var collectorOrder: Bool = false
    /// Meter ids in the shapes of real head-end systems (`M0435926`, `SG.37.00050636`,
    /// `gd:66021-com_3`) instead of `M000001` for all.
    public var meterIDShapes: Bool = false

    /// The longest disorder the engine's default 15-minute reorder window tolerates without late records.
    public static let reorderWindow: Micros = 15 * Time.microsPerMinute
    public static let maxMeters = 20_000_000
    public static let maxDays = 3650

    /// Presets of the options (`--profile`).
    public enum Profile: String, Sendable, CaseIterable {
        /// Every reading at its exact quarter hour, in registry order, one spelling, one id shape:
        /// the order that suits a reader, for comparison.
        case ideal
        /// What a head-end system forwards (the default for benchmarks): meters in collector
        /// order, clocks up to 90 s late, three timestamp spellings (one per concentrator), 10 % of
        /// meters sending interval records, ids of several shapes, and a few duplicates,
        /// replacements, silences and malformed lines.
        case realistic
    }

    /// Sets the options of `profile` (``Profile/ideal`` changes nothing); set ``interval`` first.
    public mutating func apply(_ profile: Profile) {
        guard profile == .realistic else { return }
        collectorOrder = true
        meterIDShapes = true
        mixedTimestamps = true
        // Below the interval, as a reading must stay inside it.
        jitter = min(90 * Time.microsPerSecond, interval / 2 / Time.microsPerSecond * Time.microsPerSecond)
        intervalShare = 0.1
        duplicates = 0.002
        resets = 0.00005
        gaps = 0.0002
        badLines = 0.0002
    }

    /// Options with every default; the start day, unless given, is yesterday in `zone` by the wall clock (read once).
    public init(startDay: Int? = nil, zone: Zone = .shanghai) {
        self.zone = zone
        self.startDay = startDay ?? (zone.localDay(Self.wallClock()) - 1)
    }

    /// Now, in microseconds since the epoch.
    public static func wallClock() -> Micros {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * Time.microsPerSecond + Int64(ts.tv_nsec) / 1000
    }

    /// The first instant simulated: ``startDay`` 00:00 local.
    public var start: Micros { Int64(startDay) * Time.microsPerDay - zone.offsetMicros }
    /// The end of the simulated period (exclusive).
    public var end: Micros { start + Int64(days) * Time.microsPerDay }
    /// Readings per meter (one per interval; the first is the baseline).
    public var steps: Int { interval > 0 ? Int(Int64(days) * Time.microsPerDay / interval) : 0 }

    /// Parses `YYYY-MM-DD` into a day number.
    public static func parseDate(_ text: String) -> Int? {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard (0x30...0x39).contains(u[i]) else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10),
              (1...12).contains(m), d >= 1, d <= Time.daysInMonth(year: y, month: m), y >= 1971 else { return nil }
        return Time.daysFromCivil(year: y, month: m, day: d)
    }

    /// Checks the options can be simulated.
    /// - Throws: ``SimulationError`` with a one-line reason naming the option.
    public func validate() throws(SimulationError) {
        if meters < 1 || meters > Self.maxMeters { throw SimulationError("--meters must be between 1 and \(Self.maxMeters) (got \(meters))") }
        if days < 1 || days > Self.maxDays { throw SimulationError("--days must be between 1 and \(Self.maxDays) (got \(days))") }
        if interval < Time.microsPerSecond || interval % Time.microsPerSecond != 0 || Time.microsPerDay % interval != 0 {
            throw SimulationError("--interval must be whole seconds that divide a day evenly, such as 1m, 5m, 15m, 30m or 1h (got \(DurationFormat.format(interval)))")
        }
        if disorder < 0 || disorder % Time.microsPerSecond != 0 { throw SimulationError("--disorder must be a whole number of seconds (got \(DurationFormat.format(disorder)))") }
        if disorder >= Self.reorderWindow {
            throw SimulationError("--disorder must be below 900 s (got \(disorder / Time.microsPerSecond) s): the engine's reorder window is 15 minutes, and records delayed longer would arrive late")
        }
        if collectorOrder {
            let d = Int64(Collectors.maxDelay(intervalSeconds: Int(interval / Time.microsPerSecond))) * Time.microsPerSecond
            if d + disorder >= Self.reorderWindow {
                throw SimulationError("--disorder must be below \((Self.reorderWindow - d) / Time.microsPerSecond) s in collector order (got \(disorder / Time.microsPerSecond) s): concentrators already deliver up to \(d / Time.microsPerSecond) s late, and the engine's reorder window is 15 minutes")
            }
        }
        if jitter < 0 || jitter % Time.microsPerSecond != 0 { throw SimulationError("--jitter must be a whole number of seconds (got \(DurationFormat.format(jitter)))") }
        if jitter >= interval {
            throw SimulationError("--jitter must be below --interval (\(jitter / Time.microsPerSecond) s >= \(interval / Time.microsPerSecond) s): a reading must stay inside its interval")
        }
        for (name, v) in [("--duplicates", duplicates), ("--resets", resets), ("--gaps", gaps), ("--bad-lines", badLines), ("--interval-share", intervalShare)] {
            if !(v >= 0 && v <= 1) { throw SimulationError("\(name) must be a fraction between 0 and 1 (got \(v))") }
        }
        if startDay < Time.daysFromCivil(year: 1971, month: 1, day: 1) || startDay > Time.daysFromCivil(year: 9000, month: 1, day: 1) {
            throw SimulationError("--start must be a date between 1971 and 9000")
        }
    }
}
