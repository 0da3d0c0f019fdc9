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

/// The alert log (reference §5): segments `<data>/alerts/alerts-<first seq, 20 digits>.ndjson.zst`,
/// NDJSON events in `seq` order, appended one zstd frame per batch, so `zstdcat alerts/*.zst` and
/// DuckDB's `read_json` read the files as they are. Each segment has an index beside it
/// (``AlertLogIndex``, `<segment>.idx`), so reading from a `seq` opens only the segment and frames
/// that hold it and what follows.
///
/// The log is the source of truth for subscribers: Server-Sent Events resume from it, webhooks
/// deliver from it. Appends skip events whose `seq` is already logged, so a recovery that replays
/// the write-ahead log, and regenerates the same events, writes each event once. Segments are
/// rotated and pruned as ``AlertLogRetention`` says; the segment being written is never removed.
public final class AlertLog {
    public let directory: String
    let zone: Zone
    /// The highest `seq` in the log (0 when empty).
    public private(set) var lastSeq: Int64 = 0
    var currentPath: String?
    var currentBytes: Int64 = 0
    public let retention: AlertLogRetention
    let compressor = ZstdStreamCompressor()
    /// When retention last ran (wall clock, µs): it runs on rotation and at most once a minute.
    private var lastPrune: Micros = 0
    /// The segments retention removed when the log was opened.
    public private(set) var prunedAtOpen: [String] = []
    /// Told the names of the segments retention removed after that.
    public var onPrune: (([String]) -> Void)?

    /// Opens the log in `directory`: only the newest segment is read, its torn last frame (a crash
    /// during an append) cut off and its index brought up to date; then retention runs.
    /// With `fresh`, earlier log files are removed first (`replay` writes the log of its own run).
    public init(directory: String, zone: Zone, fresh: Bool = false, retention: AlertLogRetention = AlertLogRetention()) throws {
        self.directory = directory
        self.zone = zone
        self.retention = retention
        try Files.makeDirectories(directory)
        var files = try Self.files(directory)
        if fresh {
            for f in files {
                unlink("\(directory)/\(f.name)")
                unlink(AlertLogIndex.path(of: "\(directory)/\(f.name)"))
            }
            unlink("\(directory)/\(Self.snapshotName)")
            Files.syncDirectory(directory)
            return
        }
        while let last = files.last {
            let path = "\(directory)/\(last.name)"
            let good = try Self.repair(path)
            if good == 0 && files.count > 1 {
                // Created by a crash before its first frame: the previous segment is the current one.
                unlink(path)
                unlink(AlertLogIndex.path(of: path))
                files.removeLast()
                continue
            }
            currentPath = path
            currentBytes = good
            lastSeq = try Self.indexNewest(path) ?? 0
            break
        }
        prunedAtOpen = prune()
    }

    /// Whether the next ``append(_:sync:)`` starts a new segment.
    public var rotatesNext: Bool { currentPath == nil || currentBytes >= retention.segmentBytes }

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
        var last = lastSeq
        for e in fresh {
            precondition(e.seq > last, "alert events out of order")
            e.append(to: &text, formatter: formatter)
            last = e.seq
        }
        let rotated = rotatesNext
        if rotated {
            if let old = currentPath { Self.syncIndex(old) }
            currentPath = "\(directory)/\(Self.fileName(first.seq))"
            currentBytes = 0
        }
        let path = currentPath!
        var frame: [UInt8] = []
        try text.withUnsafeBytes { p in try compressor.frame(p) { frame.append(contentsOf: $0) } }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot open") }
        defer { close(fd) }
        do { try frame.withUnsafeBytes { try Files.writeAll(fd, $0, path: path) } } catch {
            // A part of the frame (disk full): cut it off, so the next append follows whole frames.
            _ = ftruncate(fd, off_t(currentBytes))
            throw error
        }
        // The index is a cache (rebuilt when short): a failed append only makes reads scan more.
        try? AlertLogIndex.append(.init(firstSeq: first.seq, offset: currentBytes), segment: path)
        let wasEmpty = currentBytes == 0
        currentBytes += Int64(frame.count)
        lastSeq = last
        if sync {
            // Written (if not yet durable): counted as logged, so a retry does not log it twice.
            if fsync(fd) != 0 { throw IOError(path: path, errno: errno, doing: "cannot fsync") }
            if wasEmpty { Files.syncDirectory(directory) }
        }
        let now = Clock.now()
        if rotated || now - lastPrune >= 60 * Time.microsPerSecond {
            let removed = prune(now: now)
            if !removed.isEmpty { onPrune?(removed) }
        }
        return fresh
    }

    /// Removes the closed segments that retention no longer keeps, oldest first, and returns
    /// their names. The newest segment stays, whatever its age or size.
    @discardableResult
    public func prune(now: Micros = Clock.now()) -> [String] {
        lastPrune = now
        // Indexes left without their segment (a reader indexed one that retention removed).
        for name in (try? Files.list(directory)) ?? [] where name.hasSuffix(".idx") {
            let segment = "\(directory)/\(name.dropLast(4))"
            if Self.names.number(String(name.dropLast(4))) != nil && !Files.exists(segment) { unlink("\(directory)/\(name)") }
        }
        guard retention.maxAge != nil || retention.maxBytes != nil,
              let files = try? Self.files(directory), files.count > 1 else { return [] }
        let paths = files.map { "\(directory)/\($0.name)" }
        let sizes = paths.map { (Files.size($0) ?? 0) + (Files.size(AlertLogIndex.path(of: $0)) ?? 0) }
        var total = sizes.reduce(0, +)
        var removed: [String] = []
        for i in 0..<(files.count - 1) {
            var old = false
            if let maxAge = retention.maxAge, let m = Self.modified(paths[i]), m < now - maxAge { old = true }
            let large = retention.maxBytes.map { total > $0 } ?? false
            // Oldest first, stopping at the first one kept: what is kept stays contiguous in seq.
            guard old || large else { break }
            unlink(paths[i])
            unlink(AlertLogIndex.path(of: paths[i]))
            total -= sizes[i]
            removed.append(files[i].name)
        }
        if !removed.isEmpty { Files.syncDirectory(directory) }
        return removed
    }

    /// How the log's files are named: `alerts-<first seq, 20 digits>.ndjson.zst`.
    public static let names = SequenceName(prefix: "alerts-", suffix: ".ndjson.zst")

    /// `alerts-<seq, 20 digits>.ndjson.zst`
    public static func fileName(_ firstSeq: Int64) -> String { names.name(firstSeq) }

    /// The log's segments, oldest first, with the first `seq` each holds.
    public static func files(_ directory: String) throws -> [(name: String, firstSeq: Int64)] {
        guard Files.isDirectory(directory) else { return [] }
        return names.numbered(try Files.list(directory)).map { ($0.name, $0.number) }
    }

    /// The first `seq` the log still holds (the name of its oldest segment); nil when empty.
    public static func oldestSeq(directory: String) -> Int64? { (try? files(directory))?.first?.firstSeq }

    /// Up to `limit` events after `seq`, in order (Server-Sent Events resume, webhook outboxes,
    /// `gridcarbon alerts`). Only the segment holding `seq + 1` and those after it are opened, from
    /// the frame the index names. When retention removed `seq + 1`, the events start at the oldest
    /// kept one: callers see the gap as a first `seq` above `seq + 1`.
    public static func read(directory: String, after seq: Int64 = 0, limit: Int = .max) throws -> [AlertLogEntry] {
        let files = try Self.files(directory)
        guard !files.isEmpty, limit > 0 else { return [] }
        let startIndex = files.lastIndex { $0.firstSeq <= seq &+ 1 } ?? 0
        var out: [AlertLogEntry] = []
        for i in startIndex..<files.count where out.count < limit {
            let path = "\(directory)/\(files[i].name)"
            guard i == startIndex else {
                _ = try readFrames(path, from: 0, after: seq, limit: limit, into: &out)
                continue
            }
            let newest = i == files.count - 1
            var found = AlertLogIndex.lookup(segment: path, seq: seq &+ 1)
            if found == nil && !newest {
                // A segment without index (an older log): index it once.
                let records = (try? AlertLogIndex.rebuild(segment: path, write: true)) ?? []
                found = records.last { $0.firstSeq <= seq &+ 1 } ?? records.first
            }
            let firstSeen = try readFrames(path, from: found?.offset ?? 0, after: seq, limit: limit, into: &out)
            if let found, firstSeen != found.firstSeq {
                // A stale index (no frame, or another one, at its offset): read the segment from
                // its start, and index it again.
                out.removeAll()
                if !newest { _ = try? AlertLogIndex.rebuild(segment: path, write: true) }
                _ = try readFrames(path, from: 0, after: seq, limit: limit, into: &out)
            }
        }
        return out
    }

    /// Reads the frames of a segment from byte `offset`, adding its events after `seq` to `out`
    /// until `out` holds `limit`; a torn frame at the end (an append under way) ends the read.
    /// Returns the first `seq` of the first frame read (nil when none, or the segment was removed
    /// meanwhile).
    static func readFrames(_ path: String, from offset: Int64, after seq: Int64, limit: Int, into out: inout [AlertLogEntry]) throws -> Int64? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }   // removed by retention since it was listed
            throw IOError(path: path, errno: errno, doing: "cannot open")
        }
        defer { close(fd) }
        let decompressor = ZstdDecompressor(outputChunk: 1 << 18)
        let chunk = 1 << 18
        var buf: [UInt8] = []
        var pos = 0
        var fileOffset = off_t(offset)
        var eof = false
        var firstSeen: Int64?
        var text: [UInt8] = []
        while out.count < limit {
            var damaged = false
            let n = buf.withUnsafeBytes { p -> Int in
                guard pos < p.count else { return 0 }
                let n = ZSTD_findFrameCompressedSize(p.baseAddress! + pos, p.count - pos)
                if ZSTD_isError(n) != 0 {
                    // Too few bytes yet (or a torn end) reads on; anything else is damage.
                    damaged = ZSTD_getErrorCode(n) != ZSTD_error_srcSize_wrong
                    return 0
                }
                return pos + n > p.count ? 0 : n
            }
            if damaged {
                let at = fileOffset - off_t(buf.count) + off_t(pos)
                // From an index offset with nothing read yet, a stale index is likelier: the
                // caller reads the segment again from its start.
                if offset != 0 && firstSeen == nil { return nil }
                throw IOError(.malformed, path: path, message: "damaged alert log frame at byte \(at): events from there on in this segment cannot be read (move the segment aside to skip them)")
            }
            if n > 0 {
                text.removeAll(keepingCapacity: true)
                try buf.withUnsafeBytes { p in
                    try decompressor.feed(UnsafeRawBufferPointer(rebasing: p[pos..<(pos + n)])) { text.append(contentsOf: $0) }
                }
                try decompressor.finish()
                pos += n
                text.withUnsafeBytes { t in
                    // Lines found with memchr, copied whole: byte loops only for the seq.
                    var start = 0
                    while start < t.count, let nl = memchr(t.baseAddress! + start, 0x0A, t.count - start) {
                        let end = t.baseAddress!.distance(to: UnsafeRawPointer(nl)) + 1
                        let line = Array(UnsafeRawBufferPointer(rebasing: t[start..<end]))
                        start = end
                        guard let s = Self.seq(of: line) else { continue }
                        if firstSeen == nil { firstSeen = s }
                        if s > seq {
                            out.append(AlertLogEntry(seq: s, line: line))
                            if out.count >= limit { break }
                        }
                    }
                }
                continue
            }
            if eof { break }
            if pos > 0 {
                buf.removeFirst(pos)
                pos = 0
            }
            var got = 0
            let more = [UInt8](unsafeUninitializedCapacity: chunk) { p, count in
                got = pread(fd, p.baseAddress!, chunk, fileOffset)
                count = max(0, got)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw IOError(path: path, errno: errno, doing: "cannot read")
            }
            buf.append(contentsOf: more)
            fileOffset += off_t(got)
            if got == 0 { eof = true }
        }
        return firstSeen
    }

    /// The complete lines of one log file. A torn last frame or line is left out.
    static func entries(of path: String) throws -> [AlertLogEntry] {
        var out: [AlertLogEntry] = []
        _ = try readFrames(path, from: 0, after: Int64.min, limit: .max, into: &out)
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

    /// Cuts a torn last frame off a log file; returns the size kept.
    @discardableResult
    static func repair(_ path: String) throws -> Int64 {
        let bytes = try Files.read(path)
        let good = bytes.withUnsafeBytes { validPrefix($0) }
        if good < bytes.count {
            if truncate(path, off_t(good)) != 0 { throw IOError(path: path, errno: errno, doing: "cannot truncate the torn alert log tail of") }
        }
        return Int64(good)
    }

    /// Brings the index of the newest segment (repaired) up to date with its frames: records past
    /// its end are dropped, frames not indexed yet are added (a crash between the two appends), a
    /// wrong index is rebuilt. Returns the segment's last `seq` (nil when it holds none); only its
    /// unindexed frames and its last frame are decompressed.
    static func indexNewest(_ path: String) throws -> Int64? {
        let bytes = try Files.read(path)
        let stored = AlertLogIndex.records(segment: path) ?? []
        var records = stored.filter { $0.offset < Int64(bytes.count) }
        var ok = zip(records, records.dropFirst()).allSatisfy { $0.offset < $1.offset && $0.firstSeq < $1.firstSeq }
        var next = 0
        var lastText: [UInt8] = []
        func frame(at off: Int) throws -> (size: Int, text: [UInt8])? {
            try bytes.withUnsafeBytes { p -> (size: Int, text: [UInt8])? in
                guard off < p.count else { return nil }
                let n = ZSTD_findFrameCompressedSize(p.baseAddress! + off, p.count - off)
                guard ZSTD_isError(n) == 0, n > 0, off + n <= p.count else { return nil }
                return (n, try Zstd.decompress(Array(p[off..<(off + n)])))
            }
        }
        if ok, let last = records.last {
            if let f = try frame(at: Int(last.offset)), seq(of: Array(f.text.prefix(32))) == last.firstSeq {
                next = Int(last.offset) + f.size
                lastText = f.text
            } else {
                ok = false
            }
        }
        if !ok {
            records = []
            next = 0
        }
        var changed = !ok || records.count != stored.count
        while let f = try frame(at: next) {
            if let s = seq(of: Array(f.text.prefix(32))) { records.append(.init(firstSeq: s, offset: Int64(next))) }
            next += f.size
            lastText = f.text
            changed = true
        }
        if changed {
            var file: [UInt8] = []
            for r in records { file += AlertLogIndex.encode(r) }
            try Files.writeAtomically(AlertLogIndex.path(of: path), file, sync: true)
        }
        // The last line's seq.
        var end = lastText.count
        while end > 0 {
            var start = end - 1
            while start > 0 && lastText[start - 1] != 0x0A { start -= 1 }
            if let s = seq(of: Array(lastText[start..<end])) { return s }
            end = start
        }
        return nil
    }

    /// fsyncs the index of a segment being closed (best effort: an index is rebuilt when wrong).
    static func syncIndex(_ segment: String) {
        let fd = open(AlertLogIndex.path(of: segment), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// When a file was last written (µs since the epoch), nil when it cannot be stat'ed.
    static func modified(_ path: String) -> Micros? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        #if canImport(Darwin)
        return Micros(st.st_mtimespec.tv_sec) * Time.microsPerSecond + Micros(st.st_mtimespec.tv_nsec) / 1000
        #else
        return Micros(st.st_mtim.tv_sec) * Time.microsPerSecond + Micros(st.st_mtim.tv_nsec) / 1000
        #endif
    }
}
