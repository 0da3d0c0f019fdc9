#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZstd
import GridCarbonEngine
import GridCarbonModel

/// One line of the alert log with its `seq`.
public struct AlertLogEntry: Sendable, Equatable {
    public var seq: Int64
    /// The event's NDJSON line, newline included.
    public var line: [UInt8]

    public init(seq: Int64, line: [UInt8]) {
        self.seq = seq
        self.line = line
    }
}

/// The alert log (§5): `<data>/alerts/alerts-<first seq, 20 digits>.ndjson.zst`, NDJSON events in
/// `seq` order, appended one zstd frame per batch, so `zstdcat alerts/*.zst` and DuckDB's
/// `read_json` read the files as they are.
///
/// The log is the source of truth for subscribers: Server-Sent Events resume from it, webhooks
/// deliver from it. Appends skip events whose `seq` is already logged, so a recovery that replays
/// the write-ahead log, and regenerates the same events, writes each event once.
public final class AlertLog {
    public let directory: String
    let zone: Zone
    /// The highest `seq` in the log (0 when empty).
    public private(set) var lastSeq: Int64 = 0
    var currentPath: String?
    var currentBytes: Int64 = 0
    /// A new file is started once the current one is this large.
    let rotateBytes: Int64
    let compressor = ZstdStreamCompressor()

    /// Opens the log in `directory`. A torn last frame (a crash during an append) is cut off.
    /// With `fresh`, earlier log files are removed first (`replay` writes the log of its own run).
    public init(directory: String, zone: Zone, fresh: Bool = false, rotateBytes: Int64 = 64 << 20) throws {
        self.directory = directory
        self.zone = zone
        self.rotateBytes = rotateBytes
        try Files.makeDirectories(directory)
        let files = try Self.files(directory)
        if fresh {
            for f in files { unlink("\(directory)/\(f.name)") }
            Files.syncDirectory(directory)
            return
        }
        guard let last = files.last else { return }
        let path = "\(directory)/\(last.name)"
        try Self.repair(path)
        currentPath = path
        currentBytes = Files.size(path) ?? 0
        for f in files.reversed() {
            if let seq = try Self.entries(of: "\(directory)/\(f.name)").last?.seq {
                lastSeq = seq
                break
            }
        }
    }

    /// Appends the events not logged yet (`seq` above ``lastSeq``), in order, as one frame, and
    /// returns them. With `sync`, the file is fsynced before returning.
    @discardableResult
    public func append(_ events: [AlertEvent], sync: Bool = true) throws -> ArraySlice<AlertEvent> {
        // Events come in seq order: those not logged yet are a suffix (no copy of the rest).
        let from = events.firstIndex { $0.seq > lastSeq } ?? events.endIndex
        let fresh = events[from...]
        guard let first = fresh.first else { return [] }
        var text: [UInt8] = []
        text.reserveCapacity(fresh.count * 400)
        let formatter = TimeFormatter(zone: zone)
        for e in fresh {
            precondition(e.seq > lastSeq, "alert events out of order")
            e.append(to: &text, formatter: formatter)
            lastSeq = e.seq
        }
        if currentPath == nil || currentBytes >= rotateBytes {
            currentPath = "\(directory)/\(Self.fileName(first.seq))"
            currentBytes = 0
        }
        let path = currentPath!
        var frame: [UInt8] = []
        try text.withUnsafeBytes { p in try compressor.frame(p) { frame.append(contentsOf: $0) } }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot open") }
        defer { close(fd) }
        try frame.withUnsafeBytes { try Files.writeAll(fd, $0, path: path) }
        if sync {
            if fsync(fd) != 0 { throw IOError(path: path, errno: errno, doing: "cannot fsync") }
            if currentBytes == 0 { Files.syncDirectory(directory) }
        }
        currentBytes += Int64(frame.count)
        return fresh
    }

    /// How the log's files are named: `alerts-<first seq, 20 digits>.ndjson.zst`.
    public static let names = SequenceName(prefix: "alerts-", suffix: ".ndjson.zst")

    /// `alerts-<seq, 20 digits>.ndjson.zst`
    public static func fileName(_ firstSeq: Int64) -> String { names.name(firstSeq) }

    /// The log's files, oldest first, with the first `seq` each holds.
    public static func files(_ directory: String) throws -> [(name: String, firstSeq: Int64)] {
        guard Files.isDirectory(directory) else { return [] }
        return names.numbered(try Files.list(directory)).map { ($0.name, $0.number) }
    }

    /// Every event after `seq`, in order (Server-Sent Events resume, webhook outboxes, `gridcarbon alerts`).
    public static func read(directory: String, after seq: Int64 = 0, limit: Int = .max) throws -> [AlertLogEntry] {
        let files = try Self.files(directory)
        var out: [AlertLogEntry] = []
        for (i, f) in files.enumerated() {
            // Skip a file when the next one starts at or before the first wanted event.
            if i + 1 < files.count && files[i + 1].firstSeq <= seq + 1 { continue }
            for e in try entries(of: "\(directory)/\(f.name)") where e.seq > seq {
                out.append(e)
                if out.count >= limit { return out }
            }
        }
        return out
    }

    /// The complete lines of one log file. A torn last frame or line is left out.
    static func entries(of path: String) throws -> [AlertLogEntry] {
        let bytes = try Files.read(path)
        let good = bytes.withUnsafeBytes { Self.validPrefix($0) }
        let text = try Zstd.decompress(Array(bytes[0..<good]))
        var out: [AlertLogEntry] = []
        var start = 0
        for i in text.indices where text[i] == 0x0A {
            let line = Array(text[start...i])
            start = i + 1
            if let seq = Self.seq(of: line) { out.append(AlertLogEntry(seq: seq, line: line)) }
        }
        return out
    }

    /// Parses the leading `{"seq":N` of a log line.
    public static func seq(of line: [UInt8]) -> Int64? {
        let prefix = Array("{\"seq\":".utf8)
        guard line.count > prefix.count, line.starts(with: prefix) else { return nil }
        var v: Int64 = 0
        var i = prefix.count
        while i < line.count, line[i] >= 0x30, line[i] <= 0x39 {
            v = v &* 10 &+ Int64(line[i] - 0x30)
            i += 1
        }
        return i > prefix.count ? v : nil
    }

    /// Length of the longest prefix made of whole zstd frames.
    static func validPrefix(_ p: UnsafeRawBufferPointer) -> Int {
        var off = 0
        while off < p.count {
            let n = ZSTD_findFrameCompressedSize(p.baseAddress! + off, p.count - off)
            if ZSTD_isError(n) != 0 || n == 0 || off + n > p.count { break }
            off += n
        }
        return off
    }

    /// Cuts a torn last frame off a log file.
    static func repair(_ path: String) throws {
        let bytes = try Files.read(path)
        let good = bytes.withUnsafeBytes { validPrefix($0) }
        if good < bytes.count {
            if truncate(path, off_t(good)) != 0 { throw IOError(path: path, errno: errno, doing: "cannot truncate the torn alert log tail of") }
        }
    }
}
