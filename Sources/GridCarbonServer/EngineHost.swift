import Dispatch
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What one submitted batch did.
public struct BatchOutcome: Sendable {
    public var counts = LineCounts()
    /// The first rejections of the batch: line number within the batch (from 1), reason, line.
    public var rejections: [(line: Int64, reason: String, text: String)] = []
}

/// The engine on its serial queue, behind the write-ahead log (§6).
///
/// Every batch is appended to the log, then applied to the engine, on one `DispatchQueue`; its
/// outcome is handed back once the log is durable up to it. Wall-clock watermark moves are logged
/// the same way, so a restart that replays the log takes the same steps and writes the same bytes.
public final class EngineHost: @unchecked Sendable {
    /// Log entry kinds.
    enum Entry: UInt8 {
        /// `[i64 received_at][i64 now][u16 source length][source][lines]`
        case batch = 1
        /// `[i64 watermark][i64 received_at]`
        case watermark = 3
        /// `[i64 received_at][u8 reason][u16 source length][source][line]`: a line refused before parsing (too long).
        case rejectedLine = 4
        /// `[u16 basis length][basis][u32 annual length][annual CSV][source factors CSV]`: tables reloaded (SIGHUP).
        case tables = 5
        /// `[registry CSV]`: the meter registry replaced (start, SIGHUP, `POST /v1/registry`); see
        /// ``Engine/replacingRegistry(with:)``. A new data folder's log starts with one.
        case registry = 6
    }

    /// The registry CSV logged when the daemon runs without one.
    static let emptyRegistryCSV = Array("meter_id,region,city,park,enterprise,industry,max_kw\n".utf8)

    public let configuration: ServeConfiguration
    public let queue = DispatchQueue(label: "gridcarbon.engine")
    /// The engine; a registry reload replaces it (on the queue, see ``registryDidChange()``).
    var engine: Engine
    let output: OutputDirectory
    let sink: HostSink
    let wal: WriteAheadLog
    let logger: Logger
    private let registryLock = PThreadMutex()
    private var currentRegistry: Registry
    /// The meter registry in force (any thread): key names for the API, the meter count for metrics.
    /// Key indices only ever get appended to, so a window or total of an older registry reads right
    /// with a newer one.
    public var registry: Registry { registryLock.withLock { currentRegistry } }
    /// Called on the engine queue after every registry reload, with the new registry: state keyed
    /// by key index must be rebuilt from key names here (see ``registryDidChange()``).
    public var onRegistryChange: (@Sendable (Registry) -> Void)?
    var sideOutputSegment: Int64 = -1
    /// Wall time of the last batch that carried meter records.
    var lastActivity: Micros
    var timer: DispatchSourceTimer?
    /// Recent closed windows per length, newest last, for `GET /v1/aggregates` (older ones are in
    /// the files). Kept short: a 15-minute window of a large fleet holds tens of thousands of rows.
    var recent: [Micros: [ClosedWindow]] = [:]
    let recentLimit = 24
    /// Called on the engine queue with today's emissions per province (index = region), kg.
    public var onProvinceToday: (@Sendable ([Double]) -> Void)?
    /// Called on the engine queue with each batch's line counts (metrics).
    public var onCounts: (@Sendable (LineCounts, KindCounts) -> Void)?
    /// Called on the engine queue after each window is written (metrics, alerts).
    public var onWindow: (@Sendable (ClosedWindow, _ writeSeconds: Double) -> Void)?
    public private(set) var recoveredEntries = 0
    /// LSN of the newest checkpoint written or loaded.
    public private(set) var checkpointLSN: Int64 = 0

    /// Opens the data folder and recovers: the newest checkpoint that loads (with the registry in
    /// force when it was taken), then the log after it. `registryCSV` is the registry file (nil: the
    /// daemon runs without one); when it differs from the recovered registry, or the data folder is
    /// new, it is applied as a logged reload. A registry file that does not parse throws
    /// ``TableError`` naming the line.
    public init(configuration: ServeConfiguration, registryCSV: [UInt8]?, registryOrigin: String = "registry",
                annual: AnnualFactorTable = .embedded, sources: SourceFactorTable = .embedded, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let data = configuration.dataDirectory
        let settings = configuration.engine
        let meterLevel = settings.levels.contains(.meter)
        let configured = try registryCSV.map { try Registry(csv: $0, origin: registryOrigin, meterLevel: meterLevel) }
        let output = try OutputDirectory(root: data, zone: settings.zone, registry: Registry(meterLevel: meterLevel), runName: "recovery")
        let sink = HostSink(output: output)
        self.output = output
        self.sink = sink
        let now = Clock.now()
        lastActivity = now
        func makeEngine(_ registry: Registry) -> Engine {
            output.registry = registry
            return Engine(settings: settings, registry: registry, annual: annual, sources: sources, sink: sink, now: now)
        }

        // Recovery: the newest checkpoint that loads, then the log after it, in order, exactly as
        // it was applied.
        let walDir = data + "/wal"
        var entries = 0
        var engine: Engine?
        output.sourceNames = { engine?.sourceNames ?? [] }
        var segment: Int64 = -1
        var from: Int64 = 0
        var recoveredCheckpoint: Int64 = 0
        if let c = try Self.loadCheckpoint(directory: data + "/checkpoint", logger: logger, make: { makeEngine($0 ?? configured ?? Registry(meterLevel: meterLevel)) }) {
            engine = c.engine
            from = c.lsn
            segment = c.sideSegment
            recoveredCheckpoint = c.lsn
            try output.resumeSideOutputs(name: Self.sideName(c.sideSegment), sizes: c.sideSizes)
        }
        let segments = try WriteAheadLog.segments(walDir).map(\.start)
        if from > 0, let first = segments.first, first > from {
            throw IOError(path: walDir, message: "the write-ahead log starts at \(first) but the checkpoint needs it from \(from): log segments are missing")
        }
        let end = try WriteAheadLog.recover(directory: walDir, from: from) { after, payload in
            // Side outputs are named after the segment an entry is in, and rewritten on replay.
            let start = segments.last { $0 < after } ?? 0
            if start != segment {
                segment = start
                try output.switchSideOutputs(to: Self.sideName(start), fresh: true)
            }
            // Without a checkpoint the log is read from its start: a log that starts with a
            // registry entry (every new data folder's does) starts from an empty registry; an
            // older one from the registry file.
            let current = engine ?? makeEngine(payload[0] == Entry.registry.rawValue ? Registry(meterLevel: meterLevel) : configured ?? Registry(meterLevel: meterLevel))
            engine = try Self.apply(payload, to: current, output: output)
            entries += 1
        }
        let fresh = engine == nil
        let recovered = engine ?? makeEngine(Registry(meterLevel: meterLevel))
        self.engine = recovered
        currentRegistry = recovered.registry
        checkpointLSN = recoveredCheckpoint
        recoveredEntries = entries
        wal = try WriteAheadLog(directory: walDir, segmentBytes: configuration.walSegmentBytes, policy: configuration.fsync.walPolicy, endLSN: end)
        sideOutputSegment = wal.segmentStart
        try output.switchSideOutputs(to: Self.sideName(wal.segmentStart), fresh: segment != wal.segmentStart)
        output.sourceNames = { [unowned self] in self.engine.sourceNames }
        try output.flush()
        sink.windowObserver = { [unowned self] w in self.remember(w) }
        if entries > 0 {
            logger.info("recovered from the write-ahead log", metadata: ["entries": "\(entries)", "lsn": "\(end)", "watermark": "\(TimeFormatter(zone: configuration.engine.zone).string(recovered.watermark))"])
        }
        // The registry file in force from here: logged first in a new data folder, and logged as a
        // reload when it differs from the registry recovered (it was edited while we were down).
        if fresh || (configured.map { !recovered.registry.difference(to: $0).isEmpty } ?? false) {
            let change = try logRegistry(csv: registryCSV ?? Self.emptyRegistryCSV, parsed: configured ?? Registry(meterLevel: meterLevel))
            try wal.syncNow()
            if !fresh {
                logger.notice("the registry file differs from the registry recovered: applied as a reload", metadata: Self.metadata(change))
            }
        } else if configured == nil && recovered.registry.liveCount > 0 {
            logger.notice("no registry given: keeping the \(recovered.registry.liveCount) meters of the registry recovered from the data folder")
        }
    }

    static func sideName(_ segment: Int64) -> String {
        let digits = String(segment)
        return "wal-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// Applies one log entry to the engine (live and on recovery: the same code) and returns the
    /// engine that carries on: a registry entry replaces it, every other entry returns `engine`.
    static func apply(_ payload: UnsafeRawBufferPointer, to engine: Engine, output: OutputDirectory) throws -> Engine {
        (engine.sink as? HostSink)?.batchStarted = Clock.monotonic()
        guard let kind = Entry(rawValue: payload[0]) else { throw IOError(path: "wal", message: "unknown entry kind \(payload[0])") }
        switch kind {
        case .batch:
            let receivedAt = payload.loadUnaligned(fromByteOffset: 1, as: Int64.self)
            let now = payload.loadUnaligned(fromByteOffset: 9, as: Int64.self)
            let nameLength = Int(payload.loadUnaligned(fromByteOffset: 17, as: UInt16.self))
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: payload[19..<(19 + nameLength)]), as: UTF8.self)
            let lines = UnsafeRawBufferPointer(rebasing: payload[(19 + nameLength)...])
            output.receivedAt = receivedAt
            engine.now = now
            let source = engine.source(named: name)
            var lineNo: Int64 = 1
            engine.ingest(lines, source: source, line: &lineNo)
        case .rejectedLine:
            output.receivedAt = payload.loadUnaligned(fromByteOffset: 1, as: Int64.self)
            let reason = RejectReason(rawValue: payload[9]) ?? .lineTooLong
            let nameLength = Int(payload.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: payload[12..<(12 + nameLength)]), as: UTF8.self)
            var line = UnsafeRawBufferPointer(rebasing: payload[(12 + nameLength)...])
            if line.last == 0x0A { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            engine.reject(reason, line: line, origin: LineOrigin(source: engine.source(named: name), line: 0))
        case .tables:
            let basisLength = Int(payload.loadUnaligned(fromByteOffset: 1, as: UInt16.self))
            let basis = String(decoding: UnsafeRawBufferPointer(rebasing: payload[3..<(3 + basisLength)]), as: UTF8.self)
            let annualLength = Int(payload.loadUnaligned(fromByteOffset: 3 + basisLength, as: UInt32.self))
            let a = 7 + basisLength
            let annualText = String(decoding: UnsafeRawBufferPointer(rebasing: payload[a..<(a + annualLength)]), as: UTF8.self)
            let sourcesText = String(decoding: UnsafeRawBufferPointer(rebasing: payload[(a + annualLength)...]), as: UTF8.self)
            let annual = try AnnualFactorTable(csv: annualText, origin: "reloaded")
            let sources = try SourceFactorTable(csv: sourcesText, basis: basis, origin: "reloaded")
            engine.replaceTables(annual: annual, sources: sources)
        case .watermark:
            let w = payload.loadUnaligned(fromByteOffset: 1, as: Int64.self)
            output.receivedAt = payload.loadUnaligned(fromByteOffset: 9, as: Int64.self)
            engine.advanceWatermark(to: w)
        case .registry:
            let fresh = try Registry(csv: Array(UnsafeRawBufferPointer(rebasing: payload[1...])), origin: "registry",
                                     meterLevel: engine.settings.levels.contains(.meter))
            return replaceRegistry(of: engine, by: fresh, output: output)
        }
        return engine
    }

    /// The registry entry's effect, given the registry already parsed.
    static func replaceRegistry(of engine: Engine, by fresh: Registry, output: OutputDirectory) -> Engine {
        let next = engine.replacingRegistry(with: fresh).engine
        output.registry = next.registry
        return next
    }

    /// On the queue: applies an entry just appended to the log, installing the engine a registry
    /// entry hands back.
    func applyLogged(_ payload: [UInt8]) throws {
        let before = engine
        engine = try payload.withUnsafeBytes { try Self.apply($0, to: before, output: output) }
        if engine !== before { registryDidChange() }
    }

    /// On the queue: **the one place a registry swap completes** (live reloads; during recovery the
    /// host is not running yet and this is not called). The engine, the output directory's names and
    /// ``registry`` are the new ones here; key and profile indices of the old registry are still
    /// valid (new ones are appended), but anything keyed by meter index is not, and state keyed by
    /// level and key *name* (alert rules) should be rebound through ``onRegistryChange``.
    func registryDidChange() {
        let r = engine.registry
        registryLock.withLock { currentRegistry = r }
        onRegistryChange?(r)
    }

    static func metadata(_ c: RegistryChange) -> Logger.Metadata {
        ["meters": "\(c.meters)", "added": "\(c.added)", "removed": "\(c.removed)", "changed": "\(c.changed)", "retired": "\(c.retired)"]
    }

    /// On the queue: logs a registry entry and applies it; the change, with the meters retired.
    @discardableResult
    func logRegistry(csv: [UInt8], parsed: Registry) throws -> RegistryChange {
        var change = engine.registry.difference(to: parsed)
        var payload: [UInt8] = [Entry.registry.rawValue]
        payload.append(contentsOf: csv)
        _ = try wal.append(payload)
        rollSideOutputsIfNeeded()
        // The entry's effect (``apply(_:to:output:)``), without parsing the file a second time.
        engine = Self.replaceRegistry(of: engine, by: parsed, output: output)
        registryDidChange()
        change.retired = engine.registry.count - engine.registry.liveCount
        return change
    }

    /// Replaces the meter registry (SIGHUP, `POST /v1/registry`): the whole file, validated first
    /// (a bad file throws ``TableError`` naming the line and changes nothing), then logged and
    /// applied on the engine queue, so a restart replays it at the same point. Returns once the
    /// reload is durable. A file that changes nothing (the same meters and keys, perhaps in another
    /// order) is not logged. See ``Engine/replacingRegistry(with:)`` for what a reload does.
    public func replaceRegistry(csv: [UInt8], origin: String) async throws -> RegistryChange {
        let fresh = try Registry(csv: csv, origin: origin, meterLevel: configuration.engine.levels.contains(.meter))
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<RegistryChange, any Error>) in
            queue.async {
                do {
                    let diff = self.engine.registry.difference(to: fresh)
                    if diff.isEmpty { c.resume(returning: diff); return }
                    let change = try self.logRegistry(csv: csv, parsed: fresh)
                    let lsn = self.wal.endLSN
                    self.logger.info("registry reloaded", metadata: Self.metadata(change).merging(["from": "\(origin)"]) { a, _ in a })
                    try self.output.check()
                    self.checkpointIfDue()
                    self.wal.whenDurable(lsn) { c.resume(returning: change) }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    // MARK: - Live input

    /// Submits whole lines (`lines` must end with a newline). `done` runs once the batch is durable.
    /// Call from any thread; the work happens on the engine queue, in submission order.
    public func submit(_ lines: [UInt8], source: String, capture: Int = 0, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        queue.async {
            do {
                let now = Clock.now()
                var payload: [UInt8] = []
                payload.reserveCapacity(lines.count + 32 + source.utf8.count)
                payload.append(Entry.batch.rawValue)
                Self.put(now, &payload)
                Self.put(now, &payload)
                let name = Array(source.utf8.prefix(1024))
                Self.put(UInt16(name.count), &payload)
                payload.append(contentsOf: name)
                payload.append(contentsOf: lines)
                let lsn = try self.wal.append(payload)
                self.rollSideOutputsIfNeeded()
                let before = self.engine.counts
                let kindsBefore = self.engine.acceptedByKind
                self.sink.capture = capture
                self.sink.captured = []
                let maxBefore = self.engine.maxEventTime
                try self.applyLogged(payload)
                self.sink.capture = 0
                var outcome = BatchOutcome()
                let after = self.engine.counts
                outcome.counts.accepted = after.accepted - before.accepted
                outcome.counts.duplicate = after.duplicate - before.duplicate
                outcome.counts.rejected = after.rejected - before.rejected
                outcome.counts.late = after.late - before.late
                outcome.rejections = self.sink.captured
                let k = self.engine.acceptedByKind
                var kinds = KindCounts()
                kinds.register = k.register - kindsBefore.register
                kinds.interval = k.interval - kindsBefore.interval
                kinds.factor = k.factor - kindsBefore.factor
                kinds.mix = k.mix - kindsBefore.mix
                self.onCounts?(outcome.counts, kinds)
                if self.engine.maxEventTime != maxBefore || outcome.counts.late > 0 || outcome.counts.duplicate > 0 {
                    self.lastActivity = now
                }
                try self.output.check()
                self.checkpointIfDue()
                let result = outcome
                self.wal.whenDurable(lsn) { done(.success(result)) }
            } catch {
                done(.failure(error))
            }
        }
    }

    /// Logs and counts a line refused before parsing (an over-long line's first bytes).
    public func reject(_ line: [UInt8], reason: RejectReason, source: String, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        queue.async {
            do {
                var payload: [UInt8] = [Entry.rejectedLine.rawValue]
                Self.put(Clock.now(), &payload)
                payload.append(reason.rawValue)
                let name = Array(source.utf8.prefix(1024))
                Self.put(UInt16(name.count), &payload)
                payload.append(contentsOf: name)
                payload.append(contentsOf: line)
                let lsn = try self.wal.append(payload)
                self.rollSideOutputsIfNeeded()
                try self.applyLogged(payload)
                var outcome = BatchOutcome()
                outcome.counts.rejected = 1
                self.onCounts?(outcome.counts, KindCounts())
                let result = outcome
                self.wal.whenDurable(lsn) { done(.success(result)) }
            } catch {
                done(.failure(error))
            }
        }
    }

    /// Async form of ``submit(_:source:capture:done:)``.
    public func submit(_ lines: [UInt8], source: String, capture: Int = 0) async throws -> BatchOutcome {
        try await withCheckedThrowingContinuation { c in
            submit(lines, source: source, capture: capture) { c.resume(with: $0) }
        }
    }

    func rollSideOutputsIfNeeded() {
        if wal.segmentStart != sideOutputSegment {
            sideOutputSegment = wal.segmentStart
            do { try output.switchSideOutputs(to: Self.sideName(sideOutputSegment), fresh: true) } catch {
                logger.error("cannot switch side outputs", metadata: ["error": "\(error)"])
            }
        }
    }

    static func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    // MARK: - Wall clock

    /// Starts the once-a-second check that moves the watermark with wall time while meters are idle.
    public func startClock() {
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + 1, repeating: 1.0)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    /// On the queue: if no meter record arrived for `idle_timeout`, log and apply a watermark move
    /// to wall time minus the reorder window.
    func tick() {
        let now = Clock.now()
        guard now - lastActivity >= configuration.idleTimeout else { return }
        let w = now - configuration.engine.reorderWindow
        guard w > engine.watermark else { return }
        var payload: [UInt8] = [Entry.watermark.rawValue]
        Self.put(w, &payload)
        Self.put(now, &payload)
        do {
            _ = try wal.append(payload)
            rollSideOutputsIfNeeded()
            try applyLogged(payload)
            try output.flush()
        } catch {
            logger.error("watermark move failed", metadata: ["error": "\(error)"])
        }
    }

    /// On the queue: keeps the newest windows per length for the API.
    func remember(_ w: ClosedWindow) {
        var list = recent[w.length, default: []]
        list.append(w)
        if list.count > recentLimit { list.removeFirst(list.count - recentLimit) }
        recent[w.length] = list
        onWindow?(w, 0)
        // Emissions today per province, refreshed as the shortest windows close.
        if let onProvinceToday, w.length == configuration.engine.windows.min() {
            onProvinceToday(engine.totals.rollUp(level: .province, registry: engine.registry).day.map(\.co2))
        }
    }

    /// p50, p99 and max of the last 10,000 window writes (slot close to file renamed), in seconds.
    public func windowWriteLatency() async -> (p50: Double, p99: Double, max: Double, count: Int) {
        await withCheckedContinuation { c in
            queue.async {
                let v = self.sink.writeSeconds.sorted()
                guard !v.isEmpty else { c.resume(returning: (0, 0, 0, 0)); return }
                let at = { (q: Double) in v[min(v.count - 1, Int((Double(v.count) * q).rounded(.up)) - 1)] }
                c.resume(returning: (at(0.5), at(0.99), v.last!, v.count))
            }
        }
    }

    /// The newest closed windows of a length (all lengths when nil), oldest first.
    public func recentWindows(length: Micros?) async -> [ClosedWindow] {
        await withCheckedContinuation { c in
            queue.async {
                if let length { c.resume(returning: self.recent[length] ?? []) } else {
                    c.resume(returning: self.recent.keys.sorted().flatMap { self.recent[$0] ?? [] })
                }
            }
        }
    }

    /// Replaces the factor tables from CSV texts (validated first: a bad table changes nothing),
    /// through the log so that a restart replays the same change at the same point.
    public func replaceTables(annualCSV: String, sourcesCSV: String, basis: String) async throws {
        _ = try AnnualFactorTable(csv: annualCSV, origin: "reload")
        _ = try SourceFactorTable(csv: sourcesCSV, basis: basis, origin: "reload")
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            queue.async {
                do {
                    var payload: [UInt8] = [Entry.tables.rawValue]
                    let b = Array(basis.utf8), a = Array(annualCSV.utf8)
                    Self.put(UInt16(b.count), &payload)
                    payload.append(contentsOf: b)
                    Self.put(UInt32(a.count), &payload)
                    payload.append(contentsOf: a)
                    payload.append(contentsOf: sourcesCSV.utf8)
                    let lsn = try self.wal.append(payload)
                    self.rollSideOutputsIfNeeded()
                    try self.applyLogged(payload)
                    self.wal.whenDurable(lsn) { c.resume() }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    // MARK: - Checkpoints

    /// On the queue: writes a checkpoint of the engine at the current log position, then drops the
    /// log segments and checkpoints it makes unnecessary. The file holds the LSN, the side-output
    /// segment and its files' sizes, and the engine's own checkpoint.
    func writeCheckpoint() throws {
        try output.flush()
        let lsn = wal.endLSN
        let sizes = output.sideOutputSizes()
        var file = Array("GCHOST02".utf8)
        Self.put(lsn, &file)
        Self.put(sideOutputSegment, &file)
        for v in sizes { Self.put(v, &file) }
        let registry = engine.registry.snapshot()
        Self.put(Int64(registry.count), &file)
        file.append(contentsOf: registry)
        file.append(contentsOf: engine.checkpoint())
        let dir = configuration.dataDirectory + "/checkpoint"
        let digits = String(lsn)
        let path = "\(dir)/checkpoint-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).bin"
        try Files.writeAtomically(path, file)
        checkpointLSN = lsn
        // Keep this checkpoint and the one before it; the log from the older one on stays.
        let all = try Files.list(dir).filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".bin") }.sorted()
        for old in all.dropLast(2) { unlink("\(dir)/\(old)") }
        if all.count >= 2, let keep = Int64(all[all.count - 2].dropFirst(11).dropLast(4)) {
            try wal.truncate(before: keep)
        }
        logger.debug("checkpoint written", metadata: ["lsn": "\(lsn)", "bytes": "\(file.count)"])
    }

    /// Checkpoints when enough log has accumulated since the last one (on the queue).
    func checkpointIfDue() {
        guard wal.endLSN - checkpointLSN >= configuration.checkpointBytes else { return }
        do { try writeCheckpoint() } catch {
            logger.error("checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    struct LoadedCheckpoint {
        var engine: Engine
        var lsn: Int64
        var sideSegment: Int64
        var sideSizes: [Int64]
    }

    /// Restores the newest checkpoint that loads into an engine from `make`, which gets the
    /// registry stored in the checkpoint (nil for checkpoints written before live registry reloads:
    /// they use the registry file); an unreadable one is skipped for the one before it.
    ///
    /// File layout: `GCHOST02`, LSN, side-output segment, the three side-output sizes (i64 each),
    /// the registry snapshot's length (i64) and bytes (``Registry/snapshot()``), the engine checkpoint.
    /// `GCHOST01` files have no registry snapshot.
    static func loadCheckpoint(directory: String, logger: Logger, make: (Registry?) -> Engine) throws -> LoadedCheckpoint? {
        guard Files.isDirectory(directory) else { return nil }
        let names = try Files.list(directory).filter { $0.hasPrefix("checkpoint-") && $0.hasSuffix(".bin") }.sorted().reversed()
        for name in names {
            let bytes = try Files.read("\(directory)/\(name)")
            let v2 = bytes.prefix(8).elementsEqual("GCHOST02".utf8)
            guard bytes.count >= (v2 ? 56 : 48), v2 || bytes.prefix(8).elementsEqual("GCHOST01".utf8) else {
                logger.warning("skipping checkpoint that is not one", metadata: ["file": "\(name)"])
                continue
            }
            let values = bytes.withUnsafeBytes { p in (0..<6).map { p.loadUnaligned(fromByteOffset: 8 + $0 * 8, as: Int64.self) } }
            var at = 48
            var registry: Registry?
            do {
                if v2 {
                    let n = values[5]
                    guard n >= 0 && n <= Int64(bytes.count - 56) else { throw IOError(path: name, message: "registry snapshot length \(n) beyond the file") }
                    registry = try Registry(snapshot: Array(bytes[56..<(56 + Int(n))]))
                    at = 56 + Int(n)
                }
                let engine = make(registry)
                try bytes.withUnsafeBytes { try engine.restore(from: UnsafeRawBufferPointer(rebasing: $0[at...])) }
                logger.info("restored checkpoint", metadata: ["file": "\(name)", "lsn": "\(values[0])"])
                return LoadedCheckpoint(engine: engine, lsn: values[0], sideSegment: values[1], sideSizes: Array(values[2..<5]))
            } catch {
                logger.warning("skipping checkpoint that does not restore", metadata: ["file": "\(name)", "error": "\(error)"])
                continue
            }
        }
        return nil
    }

    // MARK: - Shutdown and queries

    /// Stops the clock, makes everything durable and flushes side outputs. Windows still open stay
    /// open: they are in the log, and a restart continues them.
    public func shutdown() async {
        timer?.cancel()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async {
                do {
                    try self.output.flush()
                    try self.wal.syncNow()
                    // A checkpoint at shutdown makes the next start quick.
                    if self.wal.endLSN > self.checkpointLSN { try self.writeCheckpoint() }
                } catch {
                    self.logger.error("shutdown flush failed", metadata: ["error": "\(error)"])
                }
                c.resume()
            }
        }
    }

    /// Runs `body` on the engine queue.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Engine) -> T) async -> T {
        await withCheckedContinuation { c in
            queue.async { c.resume(returning: body(self.engine)) }
        }
    }

    /// Flushes side outputs (called periodically so operators see rejections promptly).
    public func flushSideOutputs() {
        queue.async { try? self.output.flush() }
    }

    public var walBytes: Int64 { wal.diskBytes() }

    /// Called after every log fsync with its duration (metrics).
    public var onSync: (@Sendable (_ seconds: Double, _ bytes: Int64) -> Void)? {
        get { wal.onSync }
        set { wal.onSync = newValue }
    }
}

extension FsyncPolicy {
    var walPolicy: WriteAheadLog.SyncPolicy {
        switch self {
        case .batch: .everyBatch
        case .interval(let us): .interval(microseconds: us)
        case .never: .never
        }
    }
}

/// Forwards the engine's outputs to the data folder, and captures a batch's first rejections.
final class HostSink: EngineSink {
    let output: OutputDirectory
    var capture = 0
    var captured: [(line: Int64, reason: String, text: String)] = []
    var windowObserver: ((ClosedWindow) -> Void)?

    init(output: OutputDirectory) { self.output = output }

    func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        if captured.count < capture {
            captured.append((origin.line, reason.code, String(decoding: line.prefix(512), as: UTF8.self)))
        }
        output.rejected(reason, line: line, origin: origin)
    }
    func late(line: UnsafeRawBufferPointer, origin: LineOrigin) { output.late(line: line, origin: origin) }
    func lateSpan(_ span: LateSpan) { output.lateSpan(span) }
    func anomaly(_ anomaly: Anomaly) { output.anomaly(anomaly) }
    /// Seconds from a window's slot closing to its file renamed into place, newest last. Slots
    /// close inside a batch (or a wall-clock watermark move), so this is measured from the start
    /// of that batch: an upper bound that includes the batch's own parsing.
    var writeSeconds: [Double] = []
    var batchStarted = 0.0

    func windowClosed(_ window: ClosedWindow) {
        output.windowClosed(window)
        writeSeconds.append(Clock.monotonic() - batchStarted)
        if writeSeconds.count > 10_000 { writeSeconds.removeFirst(writeSeconds.count - 10_000) }
        windowObserver?(window)
    }
}
