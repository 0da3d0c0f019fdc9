import GridCarbonModel

/// The engine's scalars that change with every record, kept behind one pointer.
///
/// In a release build, every read or write of a class's stored `var` is checked for exclusive
/// access at run time (`swift_beginAccess`), which cost about a tenth of the engine's time in its
/// per-record loops. A pointer's pointee is not checked, so these live in one struct that the
/// engine allocates; the properties of the same names on ``Engine`` forward to it, so no call
/// site changes. The engine is driven from one thread at a time (see ``Engine``), which is what
/// makes this safe; the checks would only ever have confirmed it.
struct EngineHotState {
    var now: Micros
    var counts: LineCounts = LineCounts()
    var acceptedByKind: KindCounts = KindCounts()
    var watermark: Micros = Time.distantPast
    var maxEventTime: Micros = Time.distantPast
    var windowsClosed: Int = 0
    var pool: UnsafeMutablePointer<Engine.Pending>
    var poolCapacity: Int
    var poolUsed: Int = 0
    var freeHead: Int32 = -1
    var pendingCount: Int = 0
    var linkedCount: Int = 0
    var closedBefore: Int64 = Int64.min / 8
    var touchedCount: Int = 0
    var cachedSlot: (index: Int64, start: Micros, end: Micros) = (0, 0, 0)
    var record: ParsedRecord = ParsedRecord()
    var alertsTrackMeters: Bool = false
    var finishing: Bool = false
    /// A merger takes grid records only (§8): a meter record on the grid subject is `misrouted`.
    var refusesMeterRecords: Bool = false

    init(now: Micros, pool: UnsafeMutablePointer<Engine.Pending>, poolCapacity: Int) {
        self.now = now
        self.pool = pool
        self.poolCapacity = poolCapacity
    }
}

extension Engine {
    /// Wall clock for the `future_timestamp` rule; set by the owner.
    public var now: Micros {
        @inline(__always) get { hot.pointee.now }
        @inline(__always) set { hot.pointee.now = newValue }
        @inline(__always) _modify { yield &hot.pointee.now }
    }
    /// Lines counted by outcome.
    public internal(set) var counts: LineCounts {
        @inline(__always) get { hot.pointee.counts }
        @inline(__always) set { hot.pointee.counts = newValue }
        @inline(__always) _modify { yield &hot.pointee.counts }
    }
    /// Accepted lines by record kind (metrics).
    public internal(set) var acceptedByKind: KindCounts {
        @inline(__always) get { hot.pointee.acceptedByKind }
        @inline(__always) set { hot.pointee.acceptedByKind = newValue }
        @inline(__always) _modify { yield &hot.pointee.acceptedByKind }
    }
    /// The watermark `W` (§3.4).
    public internal(set) var watermark: Micros {
        @inline(__always) get { hot.pointee.watermark }
        @inline(__always) set { hot.pointee.watermark = newValue }
        @inline(__always) _modify { yield &hot.pointee.watermark }
    }
    /// Largest meter-record timestamp seen (`end` for `i`).
    public internal(set) var maxEventTime: Micros {
        @inline(__always) get { hot.pointee.maxEventTime }
        @inline(__always) set { hot.pointee.maxEventTime = newValue }
        @inline(__always) _modify { yield &hot.pointee.maxEventTime }
    }
    /// Windows written so far.
    public internal(set) var windowsClosed: Int {
        @inline(__always) get { hot.pointee.windowsClosed }
        @inline(__always) set { hot.pointee.windowsClosed = newValue }
        @inline(__always) _modify { yield &hot.pointee.windowsClosed }
    }
    /// Pending items (readings and intervals not yet behind the watermark), pooled.
    var pool: UnsafeMutablePointer<Engine.Pending> {
        @inline(__always) get { hot.pointee.pool }
        @inline(__always) set { hot.pointee.pool = newValue }
        @inline(__always) _modify { yield &hot.pointee.pool }
    }
    /// Items the pool holds before it grows.
    var poolCapacity: Int {
        @inline(__always) get { hot.pointee.poolCapacity }
        @inline(__always) set { hot.pointee.poolCapacity = newValue }
        @inline(__always) _modify { yield &hot.pointee.poolCapacity }
    }
    /// Items of the pool ever used (the free list holds those given back).
    var poolUsed: Int {
        @inline(__always) get { hot.pointee.poolUsed }
        @inline(__always) set { hot.pointee.poolUsed = newValue }
        @inline(__always) _modify { yield &hot.pointee.poolUsed }
    }
    /// Head of the pool's free list, or -1.
    var freeHead: Int32 {
        @inline(__always) get { hot.pointee.freeHead }
        @inline(__always) set { hot.pointee.freeHead = newValue }
        @inline(__always) _modify { yield &hot.pointee.freeHead }
    }
    /// Items pending.
    public internal(set) var pendingCount: Int {
        @inline(__always) get { hot.pointee.pendingCount }
        @inline(__always) set { hot.pointee.pendingCount = newValue }
        @inline(__always) _modify { yield &hot.pointee.pendingCount }
    }
    /// Items still linked in a bucket: pending ones, and processed ones not yet unlinked.
    var linkedCount: Int {
        @inline(__always) get { hot.pointee.linkedCount }
        @inline(__always) set { hot.pointee.linkedCount = newValue }
        @inline(__always) _modify { yield &hot.pointee.linkedCount }
    }
    /// Slots with index below this are closed.
    var closedBefore: Int64 {
        @inline(__always) get { hot.pointee.closedBefore }
        @inline(__always) set { hot.pointee.closedBefore = newValue }
        @inline(__always) _modify { yield &hot.pointee.closedBefore }
    }
    /// Slots of the ring holding energy.
    var touchedCount: Int {
        @inline(__always) get { hot.pointee.touchedCount }
        @inline(__always) set { hot.pointee.touchedCount = newValue }
        @inline(__always) _modify { yield &hot.pointee.touchedCount }
    }
    /// The slot the last span fell in, as `[start, end)` in UTC micros: consecutive spans mostly
    /// fall in the same one, and 64-bit divisions are dear.
    var cachedSlot: (index: Int64, start: Micros, end: Micros) {
        @inline(__always) get { hot.pointee.cachedSlot }
        @inline(__always) set { hot.pointee.cachedSlot = newValue }
        @inline(__always) _modify { yield &hot.pointee.cachedSlot }
    }
    /// The record being parsed.
    var record: ParsedRecord {
        @inline(__always) get { hot.pointee.record }
        @inline(__always) set { hot.pointee.record = newValue }
        @inline(__always) _modify { yield &hot.pointee.record }
    }
    /// Whether the alert rules need every processed reading (data-quality rules).
    var alertsTrackMeters: Bool {
        @inline(__always) get { hot.pointee.alertsTrackMeters }
        @inline(__always) set { hot.pointee.alertsTrackMeters = newValue }
        @inline(__always) _modify { yield &hot.pointee.alertsTrackMeters }
    }
    var refusesMeterRecords: Bool {
        @inline(__always) get { hot.pointee.refusesMeterRecords }
        @inline(__always) set { hot.pointee.refusesMeterRecords = newValue }
        @inline(__always) _modify { yield &hot.pointee.refusesMeterRecords }
    }
    /// Inside ``finish()``.
    var finishing: Bool {
        @inline(__always) get { hot.pointee.finishing }
        @inline(__always) set { hot.pointee.finishing = newValue }
        @inline(__always) _modify { yield &hot.pointee.finishing }
    }
}
