import NIOConcurrencyHelpers
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging

/// The daemon's alert events after the engine (§5): appends them to the alert log
/// (`<data>/alerts/`, fsynced), keeps the set of active alerts, and wakes subscribers.
///
/// Subscribers (Server-Sent Events, webhooks, Alertmanager) hold no queue of their own: each keeps
/// a cursor (the last `seq` it has) and asks ``entries(after:limit:)`` for what follows, served
/// from a bounded ring of recent events or, for a subscriber that fell further behind or resumes
/// from an old `Last-Event-ID`, from the log (through its index: only the frames from there on
/// are read). A slow subscriber therefore costs no memory, and nothing is skipped or repeated
/// between the log and live events; a subscriber behind the log's retention sees a gap in `seq`
/// (``gap(in:after:)``). Server-Sent Events streams are capped (``reserveStream()``). Thread-safe.
public final class AlertHub: @unchecked Sendable {
    /// The alert log folder.
    public let directory: String
    let zone: Zone
    let logger: Logger
    let metrics: AlertMetrics
    /// How many recent events stay in memory for subscribers.
    let ringCapacity: Int
    /// At most this many Server-Sent Events streams at once (`alerts.max_sse_subscribers`).
    public let maxSubscribers: Int
    private var streams = 0
    /// The `seq` of the last active-set snapshot written.
    private var snapshotSeq: Int64 = 0

    private let lock = NIOLock()
    private let log: AlertLog
    /// Events that could not be logged yet (disk full, …): retried before the next ones.
    private var pending: [AlertEvent] = []
    /// id → the newest firing event of that alert.
    private var active: [String: ActiveAlert] = [:]
    /// Recent events, oldest first, contiguous in `seq`, ending at ``lastSeq``.
    private var ring: [AlertLogEntry] = []
    private var _lastSeq: Int64 = 0
    private var waiters: [UInt64: AsyncStream<AlertWake>.Continuation] = [:]
    private var nextWaiter: UInt64 = 0
    private var closed = false

    /// One active alert: its newest firing event.
    public struct ActiveAlert: Sendable, Equatable {
        public var entry: AlertLogEntry
        public var record: AlertRecord
    }

    /// Opens (or creates) the alert log in `directory` and rebuilds the active set from its
    /// snapshot and the events after it; the ring is filled from the log's end. The whole log is
    /// not read (only when it has no snapshot yet, once).
    public init(directory: String, zone: Zone, logger: Logger, metrics: AlertMetrics = AlertMetrics(), ringCapacity: Int = 1024,
                retention: AlertLogRetention = AlertLogRetention(), maxSubscribers: Int = 64) throws {
        self.directory = directory
        self.zone = zone
        self.logger = logger
        self.metrics = metrics
        self.ringCapacity = max(1, ringCapacity)
        self.maxSubscribers = max(1, maxSubscribers)
        log = try AlertLog(directory: directory, zone: zone, retention: retention)
        var from: Int64 = 0
        if let snapshot = AlertLog.readSnapshot(directory: directory), snapshot.seq <= log.lastSeq {
            let oldest = AlertLog.oldestSeq(directory: directory) ?? 1
            if oldest <= snapshot.seq + 1 {
                for entry in snapshot.entries { apply(entry) }
                from = snapshot.seq
            } else {
                logger.warning("alert snapshot older than the log kept: active set rebuilt from what is kept", metadata: ["snapshot": "\(snapshot.seq)", "oldest": "\(oldest)"])
            }
        }
        while from < log.lastSeq {
            let batch = try AlertLog.read(directory: directory, after: from, limit: 4096)
            guard let last = batch.last else { break }
            for entry in batch { apply(entry) }
            from = last.seq
        }
        ring = try AlertLog.read(directory: directory, after: max(0, log.lastSeq - Int64(self.ringCapacity)), limit: self.ringCapacity)
        _lastSeq = log.lastSeq
        metrics.active.record(active.count)
        try? writeSnapshot()
        let onPrune = { [logger, metrics] (removed: [String]) in
            metrics.pruned(segments: removed.count)
            logger.info("alert log segments removed by retention", metadata: ["segments": "\(removed.joined(separator: ","))"])
        }
        if !log.prunedAtOpen.isEmpty { onPrune(log.prunedAtOpen) }
        log.onPrune = onPrune
    }

    /// On the lock (or in init): the active set as of the log's last `seq`, to `active.snapshot`.
    /// Written at each rotation and every ``ringCapacity`` events, so a start reads no more of
    /// the log than the ring holds.
    private func writeSnapshot() throws {
        let lines = active.values.sorted { $0.entry.seq < $1.entry.seq }.map(\.entry.line)
        try log.writeSnapshot(seq: log.lastSeq, lines: lines)
        snapshotSeq = log.lastSeq
    }

    /// The highest `seq` logged.
    public var lastSeq: Int64 { lock.withLock { _lastSeq } }

    /// Logs the events not logged yet (by `seq`), fsyncs, updates the active set and wakes
    /// subscribers. Called in `seq` order (the engine host's `onAlerts`, recovered events first).
    public func publish(_ events: [AlertEvent]) {
        lock.withLock {
            let batch = pending + events
            let fresh: [AlertEvent]
            if log.rotatesNext && log.lastSeq > 0 {
                // The segment closes: snapshot the active set as of its end (a start reads the
                // snapshot and the segments after it).
                do { try writeSnapshot() } catch {
                    logger.error("alert snapshot not written; the next start reads more of the log", metadata: ["error": "\(error)"])
                }
            }
            let before = log.lastSeq
            do {
                fresh = Array(try log.append(batch, sync: true))
                pending = []
            } catch {
                // Written but not fsynced counts as logged (the log will not write it again):
                // those go on to subscribers; the others are retried with the next ones.
                fresh = batch.filter { $0.seq > before && $0.seq <= log.lastSeq }
                pending = batch.filter { $0.seq > log.lastSeq }
                logger.error("alert events not logged yet; retried with the next ones", metadata: ["error": "\(error)", "pending": "\(pending.count)"])
            }
            guard !fresh.isEmpty else { return }
            for e in fresh {
                let entry = AlertLogEntry(seq: e.seq, line: e.json(zone: zone))
                apply(entry)
                ring.append(entry)
                metrics.event(state: e.state.rawValue)
            }
            if ring.count > ringCapacity * 2 { ring.removeFirst(ring.count - ringCapacity) }
            if log.lastSeq - snapshotSeq >= Int64(ringCapacity) {
                do { try writeSnapshot() } catch {
                    logger.error("alert snapshot not written; the next start reads more of the log", metadata: ["error": "\(error)"])
                }
            }
            _lastSeq = log.lastSeq
            metrics.active.record(active.count)
            for w in waiters.values { w.yield(.changed) }
        }
    }

    /// Runs the log's retention now (the daemon calls it every minute, so that segments age out
    /// while no events are logged).
    public func pruneLog() {
        lock.withLock {
            let removed = log.prune()
            if !removed.isEmpty { log.onPrune?(removed) }
        }
    }

    /// On the lock (or in init): the active set after one event.
    private func apply(_ entry: AlertLogEntry) {
        guard let r = AlertRecord.parse(entry.line) else {
            logger.warning("alert log line not understood; left out of the active set", metadata: ["seq": "\(entry.seq)"])
            return
        }
        if r.resolved { active[r.id] = nil } else { active[r.id] = ActiveAlert(entry: entry, record: r) }
    }

    /// The active alerts ordered by id, and the last `seq` they reflect.
    public func activeAlerts() -> (alerts: [ActiveAlert], seq: Int64) {
        lock.withLock {
            (active.values.sorted { Array($0.record.id.utf8).lexicographicallyPrecedes(Array($1.record.id.utf8)) }, _lastSeq)
        }
    }

    /// Up to `limit` events after `seq`, in order: from memory when recent, else from the log
    /// (which decompresses the log file that holds them: callers behind ask for large batches).
    public func entries(after seq: Int64, limit: Int = 1024) throws -> [AlertLogEntry] {
        let fromRing: [AlertLogEntry]? = lock.withLock {
            if seq >= _lastSeq { return [] }
            guard let first = ring.first, first.seq <= seq + 1 else { return nil }
            let start = Int(seq + 1 - first.seq)
            guard start >= 0, start < ring.count, ring[start].seq == seq + 1 else {
                // Not contiguous (should not happen): search.
                return Array(ring.lazy.filter { $0.seq > seq }.prefix(limit))
            }
            return Array(ring[start..<min(ring.count, start + limit)])
        }
        if let fromRing { return fromRing }
        // Older than the ring: the log has them (they were logged before entering the ring).
        return try AlertLog.read(directory: directory, after: seq, limit: limit)
    }

    /// A place for one more Server-Sent Events stream, nil when ``maxSubscribers`` are open. The
    /// place is given back when the returned slot is released (its last reference dropped).
    public func reserveStream() -> StreamSlot? {
        let ok = lock.withLock { () -> Bool in
            guard streams < maxSubscribers else { return false }
            streams += 1
            return true
        }
        return ok ? StreamSlot(hub: self) : nil
    }

    fileprivate func releaseStream() { lock.withLock { streams -= 1 } }

    /// A new subscription: its stream yields when events are published and finishes when the
    /// hub is closed. Cancel it with ``unsubscribe(_:)``.
    public func subscribe() -> AlertSubscription {
        lock.withLock {
            let (stream, continuation) = AsyncStream<AlertWake>.makeStream(bufferingPolicy: .bufferingNewest(1))
            nextWaiter += 1
            let id = nextWaiter
            if closed { continuation.finish() } else { waiters[id] = continuation }
            return AlertSubscription(id: id, wakes: stream, continuation: continuation)
        }
    }

    /// Ends a subscription.
    public func unsubscribe(_ s: AlertSubscription) {
        let c = lock.withLock { waiters.removeValue(forKey: s.id) }
        c?.finish()
    }

    /// Finishes every subscription (shutdown: Server-Sent Events streams end, deliverers stop).
    /// Events are still logged after this.
    public func closeSubscribers() {
        let all = lock.withLock { () -> [AsyncStream<AlertWake>.Continuation] in
            closed = true
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for c in all { c.finish() }
    }
}

/// One Server-Sent Events stream's place under ``AlertHub/maxSubscribers``: given back when the
/// slot goes away (the response body that holds it finished or was dropped unsent).
public final class StreamSlot: Sendable {
    let hub: AlertHub

    fileprivate init(hub: AlertHub) { self.hub = hub }

    deinit { hub.releaseStream() }
}
