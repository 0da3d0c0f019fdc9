import GridCarbonEngine
import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// The engine's outputs on disk (§4): aggregate files written whole, and zstd NDJSON side outputs
/// under `rejected/`, `late/` and `anomalies/`, appended one frame per flush.
public final class OutputDirectory: EngineSink {
    public let root: String
    public let zone: Zone
    let formatter: TimeFormatter
    /// Registry for key and meter names; set before the engine runs.
    public var registry: Registry
    /// Source names by id, shared with the engine.
    public var sourceNames: () -> [String] = { [] }
    /// Wall-clock time stamped on rejected and late lines as `received_at`.
    public var receivedAt: Micros = 0
    /// Whether aggregate files are fsynced before the rename (on in production).
    public var sync: Bool

    /// Files written, by window length.
    public private(set) var filesWritten: [Micros: Int] = [:]
    public private(set) var anomalyCount = 0
    public private(set) var lateSpanCount = 0
    public private(set) var lateSpanEnergy = 0.0

    var rejected: SideOutput
    var late: SideOutput
    var anomalies: SideOutput
    var pendingError: (any Error)?

    /// - Parameter runName: the file name stem of this run's side outputs (one file per run).
    public init(root: String, zone: Zone, registry: Registry, runName: String, sync: Bool = true) throws {
        self.root = root
        self.zone = zone
        self.registry = registry
        self.sync = sync
        formatter = TimeFormatter(zone: zone)
        try Files.makeDirectories(root)
        rejected = SideOutput(path: "\(root)/rejected/\(runName).ndjson.zst")
        late = SideOutput(path: "\(root)/late/\(runName).ndjson.zst")
        anomalies = SideOutput(path: "\(root)/anomalies/\(runName).ndjson.zst")
    }

    /// Flushes the side outputs and continues them in files named `name`; with `fresh`, any
    /// existing files of that name are removed first (the daemon names them after write-ahead-log
    /// segments, so replaying a segment after a crash rewrites its side outputs instead of repeating them).
    public func switchSideOutputs(to name: String, fresh: Bool) throws {
        try flush()
        rejected = SideOutput(path: "\(root)/rejected/\(name).ndjson.zst")
        late = SideOutput(path: "\(root)/late/\(name).ndjson.zst")
        anomalies = SideOutput(path: "\(root)/anomalies/\(name).ndjson.zst")
        if fresh {
            for s in [rejected, late, anomalies] { unlink(s.path) }
        }
    }

    /// Sizes in bytes of the current rejected, late and anomalies files (after a ``flush()``).
    public func sideOutputSizes() -> [Int64] {
        [rejected, late, anomalies].map { s in
            var st = stat()
            return stat(s.path, &st) == 0 ? Int64(st.st_size) : 0
        }
    }

    /// Continues side outputs in files named `name`, cut back to `sizes` (what they held at a
    /// checkpoint: anything after it is written again by the log replay).
    public func resumeSideOutputs(name: String, sizes: [Int64]) throws {
        try switchSideOutputs(to: name, fresh: false)
        for (s, size) in zip([rejected, late, anomalies], sizes) {
            var st = stat()
            if stat(s.path, &st) == 0 && Int64(st.st_size) > size {
                let fd = open(s.path, O_WRONLY | O_CLOEXEC)
                if fd >= 0 { ftruncate(fd, off_t(size)); fsync(fd); close(fd) }
            }
        }
    }

    /// Throws the first write error the sink met (the engine's callbacks cannot throw).
    public func check() throws {
        if let e = pendingError { throw e }
    }

    /// Flushes side outputs as complete zstd frames.
    public func flush() throws {
        try rejected.flush()
        try late.flush()
        try anomalies.flush()
        flushAlerts()
        try check()
    }

    // MARK: EngineSink

    public func rejected(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        lineRecord(to: rejected, reason: reason.code, line: line, origin: origin)
    }

    public func late(line: UnsafeRawBufferPointer, origin: LineOrigin) {
        lineRecord(to: late, reason: "late", line: line, origin: origin)
    }

    func lineRecord(to out: SideOutput, reason: String, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        let names = sourceNames()
        let src = Int(origin.source) < names.count ? names[Int(origin.source)] : "input"
        record(to: out) { b in
            JSONBytes.appendKey("reason", to: &b); JSONBytes.appendString(reason, to: &b); b.append(0x2C)
            JSONBytes.appendKey("line", to: &b); JSONBytes.appendString(UnsafeRawBufferPointer(rebasing: line.prefix(4096)), to: &b); b.append(0x2C)
            JSONBytes.appendKey("source", to: &b); JSONBytes.appendString("\(src):\(origin.line)", to: &b); b.append(0x2C)
            JSONBytes.appendKey("received_at", to: &b); appendTime(receivedAt, &b)
        }
    }

    public func lateSpan(_ span: LateSpan) {
        lateSpanCount += 1
        lateSpanEnergy += span.kwh
        record(to: late) { b in
            JSONBytes.appendKey("reason", to: &b); JSONBytes.appendString("late_span", to: &b); b.append(0x2C)
            JSONBytes.appendKey("meter", to: &b); appendMeter(span.meter, &b); b.append(0x2C)
            JSONBytes.appendKey("start", to: &b); appendTime(span.start, &b); b.append(0x2C)
            JSONBytes.appendKey("end", to: &b); appendTime(span.end, &b); b.append(0x2C)
            JSONBytes.appendKey("kwh", to: &b); appendJSONNumber(span.kwh, &b)
        }
    }

    public func anomaly(_ a: Anomaly) {
        anomalyCount += 1
        record(to: anomalies) { b in
            JSONBytes.appendKey("kind", to: &b); JSONBytes.appendString(a.kind.code, to: &b); b.append(0x2C)
            JSONBytes.appendKey("meter", to: &b); appendMeter(a.meter, &b); b.append(0x2C)
            JSONBytes.appendKey("ts", to: &b); appendTime(a.ts, &b); b.append(0x2C)
            JSONBytes.appendKey("kwh", to: &b); appendJSONNumber(a.kwh, &b); b.append(0x2C)
            JSONBytes.appendKey("previous_ts", to: &b); appendTime(a.previousTs, &b); b.append(0x2C)
            JSONBytes.appendKey("previous_kwh", to: &b); appendJSONNumber(a.previousKWh, &b)
            let hours = Double(a.ts - a.previousTs) / Double(Time.microsPerHour)
            switch a.kind {
            case .implausibleJump:
                b.append(0x2C); JSONBytes.appendKey("kw", to: &b); appendJSONNumber((a.kwh - a.previousKWh) / hours, &b)
                b.append(0x2C); JSONBytes.appendKey("max_kw", to: &b); appendJSONNumber(a.maxKW, &b)
            case .meterGap:
                b.append(0x2C); JSONBytes.appendKey("gap_hours", to: &b); appendJSONNumber(hours, &b)
            case .registerReset:
                break
            }
        }
    }

    /// Appends one NDJSON object (`body` writes its fields) to a side output, flushing when large.
    private func record(to out: SideOutput, _ body: (inout [UInt8]) -> Void) {
        var b = out.buffer
        out.buffer = []
        b.append(0x7B)
        body(&b)
        b.append(contentsOf: [0x7D, 0x0A])
        out.buffer = b
        out.count += 1
        flushIfLarge(out)
    }

    private func appendTime(_ t: Micros, _ b: inout [UInt8]) {
        b.append(0x22); formatter.append(t, to: &b); b.append(0x22)
    }

    private func appendMeter(_ m: Int32, _ b: inout [UInt8]) {
        b.append(0x22); registry.appendID(Int(m), to: &b); b.append(0x22)
    }

    public func windowClosed(_ w: ClosedWindow) {
        let csv = AggregateCSV.render(w, registry: registry, formatter: formatter)
        do {
            let z = try Zstd.compress(csv)
            try Files.writeAtomically("\(root)/\(AggregateCSV.relativePath(w, zone: zone))", z, sync: sync)
            filesWritten[w.length, default: 0] += 1
        } catch {
            if pendingError == nil { pendingError = error }
        }
    }

    /// The alert log `replay` writes (the daemon logs alerts once durable, elsewhere).
    public var alertLog: AlertLog?
    var pendingAlerts: [AlertEvent] = []
    public private(set) var alertCount = 0

    public func alert(_ event: AlertEvent) {
        pendingAlerts.append(event)
        alertCount += 1
        if pendingAlerts.count >= 4096 { flushAlerts() }
    }

    func flushAlerts() {
        guard let log = alertLog, !pendingAlerts.isEmpty else { return }
        do { try log.append(pendingAlerts, sync: sync) } catch { if pendingError == nil { pendingError = error } }
        pendingAlerts.removeAll(keepingCapacity: true)
    }

    func flushIfLarge(_ out: SideOutput) {
        if out.buffer.count >= 1 << 20 {
            do { try out.flush() } catch { if pendingError == nil { pendingError = error } }
        }
    }

    func appendJSONNumber(_ v: Double, _ b: inout [UInt8]) {
        if v.isFinite { NumberFormat.append(v, to: &b) } else { b.append(contentsOf: "null".utf8) }
    }

    /// Lines written to each side output so far.
    public var sideCounts: (rejected: Int, late: Int, anomalies: Int) { (rejected.count, late.count, anomalies.count) }
}

/// One side-output file: NDJSON lines buffered, appended as a zstd frame per flush, so the file is
/// always a valid sequence of frames (`zstd -dc` and DuckDB read it as it is).
final class SideOutput {
    let path: String
    var buffer: [UInt8] = []
    var count = 0
    let compressor = ZstdStreamCompressor()

    init(path: String) { self.path = path }

    func flush() throws {
        if buffer.isEmpty { return }
        try Files.makeDirectories(Files.dirname(of: path))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot open") }
        defer { close(fd) }
        var compressed: [UInt8] = []
        try buffer.withUnsafeBytes { p in
            try compressor.frame(p) { compressed.append(contentsOf: $0) }
        }
        try compressed.withUnsafeBytes { try Files.writeAll(fd, $0, path: path) }
        buffer.removeAll(keepingCapacity: true)
    }
}
