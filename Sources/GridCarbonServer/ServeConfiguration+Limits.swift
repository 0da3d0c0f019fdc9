import GridCarbonIO
import GridCarbonModel

/// The daemon's limits and their allowed ranges (reference §6): a value that is not a number (or
/// duration), or is out of range, in the configuration file or a flag, stops the start (exit 2)
/// with a message naming the key, its flag and the range.
extension ServeConfiguration {
    /// `max_line_bytes`: below 256 a `line_too_long` could not keep its first 256 bytes.
    public static let maxLineBytesRange = 256...(16 << 20)
    /// `max_body_bytes`.
    public static let maxBodyBytesRange = 1024...(4 << 30)
    /// `checkpoint_bytes` (1: a checkpoint after every batch, for tests).
    public static let checkpointBytesRange: ClosedRange<Int64> = 1...(1 << 40)
    /// `wal_segment_bytes`.
    public static let walSegmentBytesRange = 4096...(4 << 30)
    /// `idle_timeout`.
    public static let idleTimeoutRange: ClosedRange<Micros> = 1000...(30 * Time.microsPerDay)
    /// `read_timeout`.
    public static let readTimeoutRange: ClosedRange<Micros> = Time.microsPerSecond...(24 * Time.microsPerHour)
    /// `max_connections`.
    public static let maxConnectionsRange = 1...65536

    /// Reads every limit from `given` (a flag, else the file's value, else nil: the default stays).
    mutating func readLimits(file: ConfigFile, flags: [ConfigKey: String]) throws(ConfigurationError) {
        func given(_ key: ConfigKey) throws(ConfigurationError) -> String? {
            if let f = flags[key] { return f }
            return try Self.fileText(file, key)
        }
        if let t = try given(.maxLineBytes) { maxLineBytes = try Self.number(.maxLineBytes, t, in: Self.maxLineBytesRange) }
        if let t = try given(.maxBodyBytes) { maxBodyBytes = try Self.number(.maxBodyBytes, t, in: Self.maxBodyBytesRange) }
        if let t = try given(.checkpointBytes) { checkpointBytes = try Self.number(.checkpointBytes, t, in: Self.checkpointBytesRange) }
        if let t = try given(.walSegmentBytes) { walSegmentBytes = try Self.number(.walSegmentBytes, t, in: Self.walSegmentBytesRange) }
        if let t = try given(.idleTimeout) { idleTimeout = try Self.duration(.idleTimeout, t, in: Self.idleTimeoutRange) }
        if let t = try given(.readTimeout) { readTimeout = try Self.duration(.readTimeout, t, in: Self.readTimeoutRange) }
        if let t = try given(.maxConnections) { maxConnections = try Self.number(.maxConnections, t, in: Self.maxConnectionsRange) }
    }

    /// The file's value of a limit: a string, or a JSON number written as one; any other type is refused.
    static func fileText(_ file: ConfigFile, _ key: ConfigKey) throws(ConfigurationError) -> String? {
        guard let node = file.root[path: key.path] else { return nil }
        switch node.value {
        case .string(let s): return s
        case .number(let d) where d == d.rounded() && abs(d) < 9.0e15: return String(Int64(d))
        case .number(let d): return "\(d)"
        default: throw ConfigurationError(.badValue, path: file.path, message: "\(key.name) must be a string or a number")
        }
    }

    /// `text` as a whole number in `range`.
    static func number<T: FixedWidthInteger>(_ key: ConfigKey, _ text: String, in range: ClosedRange<T>) throws(ConfigurationError) -> T {
        guard let v = T(text.trimmingSpaces), range.contains(v) else {
            throw ConfigurationError(.badValue, message: "\(label(key)) '\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// `text` as a duration (`90s`, `5m`) in `range`.
    static func duration(_ key: ConfigKey, _ text: String, in range: ClosedRange<Micros>) throws(ConfigurationError) -> Micros {
        guard let v = DurationFormat.parse(text.trimmingSpaces), range.contains(v) else {
            throw ConfigurationError(.badValue, message: "\(label(key)) '\(text)' must be a duration from \(DurationFormat.format(range.lowerBound)) to \(DurationFormat.format(range.upperBound)), such as 60s")
        }
        return v
    }

    /// `max_line_bytes (--max-line-bytes)`.
    static func label(_ key: ConfigKey) -> String {
        key.flag.map { "\(key.name) (--\($0))" } ?? key.name
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
