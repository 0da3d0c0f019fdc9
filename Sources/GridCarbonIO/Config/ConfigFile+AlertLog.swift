import GridCarbonModel

extension ConfigFile {
    /// The alert log's rotation and retention (reference §5, §6): `alerts.log_segment_bytes`
    /// (at least 4096), `alerts.log_max_age` (a duration, or `off`) and `alerts.log_max_bytes`
    /// (at least the segment size, or `off`), each a string or a JSON number.
    /// - Throws: ``ConfigurationError`` (`badValue`, exit 2) naming the key and its line.
    public func alertLogRetention() throws(ConfigurationError) -> AlertLogRetention {
        var r = AlertLogRetention()
        if let v = try wholeNumber(.alertLogSegmentBytes, in: 4096...(Int64(1) << 40)) { r.segmentBytes = v }
        if let t = text(.alertLogMaxAge) {
            if t == "off" { r.maxAge = nil } else {
                guard let d = DurationFormat.parse(t), d > 0 else {
                    throw bad(.alertLogMaxAge, "'\(t)' is not a duration such as 30d, or off")
                }
                r.maxAge = d
            }
        }
        if text(.alertLogMaxBytes) == "off" { r.maxBytes = nil } else if let v = try wholeNumber(.alertLogMaxBytes, in: 4096...Int64.max) {
            r.maxBytes = v
        }
        if let m = r.maxBytes, m < r.segmentBytes {
            throw bad(.alertLogMaxBytes, "must be at least alerts.log_segment_bytes (\(r.segmentBytes))")
        }
        return r
    }

    /// The value of `key` as a whole number in `range` (a JSON number or a string of digits);
    /// nil when absent.
    /// - Throws: ``ConfigurationError`` (`badValue`) for anything else.
    public func wholeNumber(_ key: ConfigKey, in range: ClosedRange<Int64>) throws(ConfigurationError) -> Int64? {
        guard let t = text(key) else { return nil }
        guard let v = Int64(t), range.contains(v) else {
            throw bad(key, "'\(t)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// A string value, or a number written as it would be in a string (`64`, not `64.0`).
    func text(_ key: ConfigKey) -> String? {
        guard let node = root[path: key.path] else { return nil }
        switch node.value {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 9e18 ? String(Int64(n)) : String(n)
        case .bool(let b): return String(b)
        case .null: return "null"
        case .object: return "{…}"
        case .array: return "[…]"
        }
    }

    private func bad(_ key: ConfigKey, _ message: String) -> ConfigurationError {
        ConfigurationError(.badValue, path: path, line: line(of: key.path), message: "\(key.name) \(message)")
    }
}
