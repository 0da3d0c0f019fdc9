import GridCarbonModel

/// One row of an aggregate file (§4.1), before formatting.
public struct AggregateRow: Sendable, Equatable {
    public var level: Level
    /// Key index within the level (see ``Registry/keyNames``).
    public var key: Int32
    public var energy: Double
    public var co2: Double
    /// Energy whose factor came from rules 1–2.
    public var realtimeEnergy: Double
    public var meters: Int32
    public var spans: Int32
}

/// A window that has closed, with its rows in output order (level, then key, in byte order).
public struct ClosedWindow: Sendable {
    /// Index into ``EngineSettings/windows``.
    public var lengthIndex: Int
    public var length: Micros
    public var start: Micros
    public var end: Micros
    public var rows: [AggregateRow]
}

/// An anomaly raised by a meter's readings (§3.1).
public struct Anomaly: Sendable, Equatable {
    public var kind: AnomalyKind
    public var meter: Int32
    /// The reading that raised it.
    public var ts: Micros
    public var kwh: Double
    /// The baseline it was compared with.
    public var previousTs: Micros
    public var previousKWh: Double
    /// Registered `max_kw` (implausible jumps).
    public var maxKW: Double
}

/// The part of a long span that fell into closed slots (§3.4).
public struct LateSpan: Sendable, Equatable {
    public var meter: Int32
    public var start: Micros
    public var end: Micros
    public var kwh: Double
}

/// Where an input line came from: an index into the engine's source names and a line number.
public struct LineOrigin: Sendable, Equatable {
    public var source: Int32
    public var line: Int64
    public init(source: Int32, line: Int64) { self.source = source; self.line = line }
}

/// What the engine hands to the I/O around it. Calls come from the engine's own thread, in a
/// deterministic order for the same input.
public protocol EngineSink: AnyObject {
    /// A line was rejected (§4.3); `line` is valid only during the call.
    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin)
    /// A meter record arrived at or before the watermark.
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin)
    func lateSpan(_ span: LateSpan)
    func anomaly(_ anomaly: Anomaly)
    func windowClosed(_ window: ClosedWindow)
    /// An alert event (§5), in `seq` order.
    func alert(_ event: AlertEvent)
    /// A partition engine's batch of closed slots and windows, for the merger (§8).
    func partial(_ batch: PartialBatch)
    /// A merger refused the batch at `seq` of the partials stream (§8).
    func partialRefused(seq: UInt64, reason: String)
}

extension EngineSink {
    /// Sinks that do not care about alerts ignore them.
    public func alert(_ event: AlertEvent) {}
    /// Sinks outside scale-out ignore batches.
    public func partial(_ batch: PartialBatch) {}
    public func partialRefused(seq: UInt64, reason: String) {}
}

/// Counts of every record line by outcome (§4.3): each line is exactly one of these.
public struct LineCounts: Sendable, Equatable, Codable {
    public var accepted: Int = 0
    public var duplicate: Int = 0
    public var rejected: Int = 0
    public var late: Int = 0
    public init() {}
    public var total: Int { accepted + duplicate + rejected + late }
}

/// Accepted lines per record kind.
public struct KindCounts: Sendable, Equatable {
    public var register = 0
    public var interval = 0
    public var factor = 0
    public var mix = 0
    /// `x`, `o`, `c` (reference §9.1).
    public var exchange = 0
    public var output = 0
    public var contract = 0
    public init() {}
}

extension Engine {
    /// Slots that hold energy and have not closed yet (metrics).
    public var openSlots: Int { touchedCount }
}
