import GridCarbonModel

/// How the alert log is rotated and pruned (reference §5, §6 settings `alerts.log_segment_bytes`,
/// `alerts.log_max_age`, `alerts.log_max_bytes`): a new segment is started once the current one
/// reaches ``segmentBytes``; closed segments last written more than ``maxAge`` ago are removed, and
/// the oldest closed ones while all segments together exceed ``maxBytes``. The segment being
/// written is never removed.
public struct AlertLogRetention: Sendable, Equatable {
    /// A new segment once the current one is this large (bytes, compressed).
    public var segmentBytes: Int64 = 8 << 20
    /// Closed segments whose last write is older than this are removed (µs); nil: kept whatever their age.
    public var maxAge: Micros? = 30 * Time.microsPerDay
    /// The log's total size (segments and their indexes) above which the oldest closed segments
    /// are removed; nil: no bound.
    public var maxBytes: Int64? = 1 << 30

    public init(segmentBytes: Int64 = 8 << 20, maxAge: Micros? = 30 * Time.microsPerDay, maxBytes: Int64? = 1 << 30) {
        self.segmentBytes = segmentBytes
        self.maxAge = maxAge
        self.maxBytes = maxBytes
    }

    /// Everything kept (`replay` writes the log of its own run).
    public static let keepAll = AlertLogRetention(maxAge: nil, maxBytes: nil)
}
