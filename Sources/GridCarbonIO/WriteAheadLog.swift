import Dispatch
import GridCarbonEngine

#if canImport(Glibc)
import Glibc
#endif

/// The write-ahead log: every accepted batch is appended here before it is acknowledged.
///
/// Layout: `<dir>/wal-<first LSN, 20 digits>.log` segments, each a sequence of entries
/// `[u32 length][u32 CRC-32 of the payload][payload]` (little-endian). A log sequence number (LSN)
/// counts entry bytes across segments, so "durable up to LSN n" is one number. A torn tail (a
/// crash during a write) is cut off on recovery: it was never acknowledged.
///
/// Appends come from one thread (the engine's queue). Durability is group commit: a sync thread
/// fsyncs whatever has been written and completes every waiter it covers, so concurrent
/// producers share fsyncs.
public final class WriteAheadLog: @unchecked Sendable {
    public enum SyncPolicy: Sendable, Equatable {
        case everyBatch
        case interval(microseconds: Int64)
        case never
    }

    public let directory: String
    public let segmentBytes: Int
    public let policy: SyncPolicy

    // Owned by the appending thread.
    private var fd: Int32 = -1
    /// First LSN of the segment being appended to.
    public private(set) var segmentStart: Int64 = 0
    private var segmentSize: Int64 = 0
    /// Next LSN to be written.
    public private(set) var endLSN: Int64 = 0

    // Shared with the sync thread, under `lock`.
    private let lock = PThreadMutex()
    private var writtenLSN: Int64 = 0
    private var syncedLSN: Int64 = 0
    private var syncFD: Int32 = -1
    private var waiters: [(lsn: Int64, done: @Sendable () -> Void)] = []
    private var syncRunning = false
    private var retired: [Int32] = []
    private let syncQueue = DispatchQueue(label: "gridcarbon.wal.sync")
    /// Called after each fsync with its duration in seconds and the bytes it made durable (metrics).
    public var onSync: (@Sendable (_ seconds: Double, _ bytes: Int64) -> Void)?

    /// Opens the log for appending after `endLSN` (as found by ``recover(directory:_:)``).
    public init(directory: String, segmentBytes: Int = 64 << 20, policy: SyncPolicy = .everyBatch, endLSN: Int64) throws {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.policy = policy
        try Files.makeDirectories(directory)
        self.endLSN = endLSN
        writtenLSN = endLSN
        syncedLSN = endLSN
        // Continue the last segment if there is one, else start one.
        let segments = try Self.segments(directory)
        if let last = segments.last, last.start <= endLSN {
            fd = open(last.path, O_WRONLY | O_APPEND | O_CLOEXEC)
            if fd < 0 { throw IOError(path: last.path, errno: errno, doing: "cannot open") }
            segmentStart = last.start
            segmentSize = endLSN - last.start
        } else {
            try openSegment(start: endLSN)
        }
        syncFD = fd
    }

    deinit {
        if fd >= 0 { close(fd) }
        for r in retired { close(r) }
    }

    /// Path of the segment starting at `lsn`.
    public static func segmentPath(_ dir: String, _ lsn: Int64) -> String {
        let digits = String(lsn)
        return "\(dir)/wal-\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits).log"
    }

    /// Segments in LSN order.
    public static func segments(_ dir: String) throws -> [(start: Int64, path: String)] {
        guard Files.isDirectory(dir) else { return [] }
        return try Files.list(dir).compactMap { name -> (Int64, String)? in
            guard name.hasPrefix("wal-"), name.hasSuffix(".log"), let lsn = Int64(name.dropFirst(4).dropLast(4)) else { return nil }
            return (lsn, "\(dir)/\(name)")
        }.sorted { $0.0 < $1.0 }
    }

    private func openSegment(start: Int64) throws {
        let path = Self.segmentPath(directory, start)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOError(path: path, errno: errno, doing: "cannot create") }
        Files.syncDirectory(directory)
        segmentStart = start
        segmentSize = 0
    }

    /// Appends one entry; returns the LSN just after it (wait for durability up to that).
    @discardableResult
    public func append(_ payload: UnsafeRawBufferPointer) throws -> Int64 {
        if segmentSize > 0 && segmentSize + Int64(payload.count) + 8 > Int64(segmentBytes) {
            try roll()
        }
        var header = (UInt32(truncatingIfNeeded: payload.count).littleEndian, CRC32.checksum(payload).littleEndian)
        try withUnsafeBytes(of: &header) { h in
            var iov = [iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress), iov_len: 8),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count)]
            let total = 8 + payload.count
            var n = -1
            repeat { n = writev(fd, &iov, 2) } while n < 0 && errno == EINTR
            if n < 0 { throw IOError(path: Self.segmentPath(directory, segmentStart), errno: errno, doing: "write-ahead log write failed") }
            if n < total {
                // A short write: finish the rest plainly.
                var all = [UInt8](h)
                all.append(contentsOf: payload)
                try all.withUnsafeBytes { try Files.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[n...]), path: directory) }
            }
        }
        let size = Int64(8 + payload.count)
        segmentSize += size
        endLSN += size
        lock.withLock { writtenLSN = endLSN }
        return endLSN
    }

    public func append(_ payload: [UInt8]) throws -> Int64 {
        try payload.withUnsafeBytes { try append($0) }
    }

    /// Starts a new segment (the old one is fsynced first, so everything before is durable).
    private func roll() throws {
        if fsync(fd) != 0 { throw IOError(path: directory, errno: errno, doing: "fsync failed") }
        let old = fd
        let end = endLSN
        try openSegment(start: endLSN)
        var ready: [@Sendable () -> Void] = []
        lock.withLock {
            if syncRunning { retired.append(old) } else { close(old) }
            syncFD = fd
            if end > syncedLSN { syncedLSN = end }
            ready = takeReady()
        }
        for r in ready { r() }
    }

    /// Calls `done` (on the sync thread, or at once) when everything up to `lsn` is durable.
    public func whenDurable(_ lsn: Int64, _ done: @escaping @Sendable () -> Void) {
        if policy == .never { done(); return }
        var start = false
        var now = false
        lock.withLock {
            if lsn <= syncedLSN { now = true; return }
            waiters.append((lsn, done))
            if !syncRunning { syncRunning = true; start = true }
        }
        if now { done(); return }
        if start { syncQueue.async { self.syncLoop() } }
    }

    /// Waits until everything up to `lsn` is durable.
    public func durable(_ lsn: Int64) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            whenDurable(lsn) { c.resume() }
        }
    }

    private func takeReady() -> [@Sendable () -> Void] {
        var ready: [@Sendable () -> Void] = []
        waiters.removeAll { w in
            if w.lsn <= syncedLSN { ready.append(w.done); return true }
            return false
        }
        return ready
    }

    private func syncLoop() {
        while true {
            if case .interval(let us) = policy { usleep(UInt32(max(0, min(us, 1_000_000)))) }
            var target: Int64 = 0
            var fd: Int32 = -1
            let idle: Bool = lock.withLock {
                if waiters.isEmpty { syncRunning = false; return true }
                target = writtenLSN
                fd = syncFD
                return false
            }
            if idle { return }
            let t0 = monotonicSeconds()
            fdatasync(fd)
            let seconds = monotonicSeconds() - t0
            var ready: [@Sendable () -> Void] = []
            var toClose: [Int32] = []
            var synced: Int64 = 0
            lock.withLock {
                if target > syncedLSN { synced = target - syncedLSN; syncedLSN = target }
                ready = takeReady()
                toClose = retired
                retired = []
            }
            for c in toClose { close(c) }
            onSync?(seconds, synced)
            for r in ready { r() }
        }
    }

    /// Makes everything written durable now (shutdown).
    public func syncNow() throws {
        if fsync(fd) != 0 { throw IOError(path: directory, errno: errno, doing: "fsync failed") }
        var ready: [@Sendable () -> Void] = []
        lock.withLock {
            syncedLSN = max(syncedLSN, endLSN)
            ready = takeReady()
        }
        for r in ready { r() }
    }

    /// Deletes segments that end at or before `lsn` (everything in them is in a checkpoint).
    public func truncate(before lsn: Int64) throws {
        let segs = try Self.segments(directory)
        for (i, s) in segs.enumerated() where i + 1 < segs.count && segs[i + 1].start <= lsn && s.start != segmentStart {
            unlink(s.path)
        }
    }

    /// Bytes held in segments on disk.
    public func diskBytes() -> Int64 {
        var total: Int64 = 0
        for s in (try? Self.segments(directory)) ?? [] {
            var st = stat()
            if stat(s.path, &st) == 0 { total += Int64(st.st_size) }
        }
        return total
    }

    /// Reads every intact entry from `fromLSN` on, in order, and returns the end LSN. A torn or
    /// corrupt tail of the last segment is cut off (it was never acknowledged); corruption before
    /// the last segment is an error: the operator must look.
    public static func recover(directory: String, from fromLSN: Int64 = 0, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let segs = try segments(directory)
        var end = fromLSN
        for (i, s) in segs.enumerated() {
            let next = i + 1 < segs.count ? segs[i + 1].start : Int64.max
            if next <= fromLSN { continue }
            let bytes = try Files.read(s.path)
            var off = 0
            var lsn = s.start
            var torn = false
            try bytes.withUnsafeBytes { p in
                while off < p.count {
                    guard off + 8 <= p.count else { torn = true; break }
                    let len = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: off, as: UInt32.self)))
                    let crc = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self))
                    guard off + 8 + len <= p.count else { torn = true; break }
                    let payload = UnsafeRawBufferPointer(rebasing: p[(off + 8)..<(off + 8 + len)])
                    guard CRC32.checksum(payload) == crc else { torn = true; break }
                    let after = lsn + Int64(8 + len)
                    if lsn >= fromLSN { try body(after, payload) }
                    off += 8 + len
                    lsn = after
                }
            }
            if torn {
                guard i == segs.count - 1 else {
                    throw IOError(path: s.path, message: "write-ahead log corrupt at byte \(off) of a segment that is not the last; move it aside to start (data after it would be lost)")
                }
                truncateFile(s.path, to: off)
            }
            end = max(end, lsn)
        }
        return end
    }

    static func truncateFile(_ path: String, to size: Int) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd >= 0 {
            ftruncate(fd, off_t(size))
            fsync(fd)
            close(fd)
        }
    }
}

/// A pthread mutex (no Foundation).
public final class PThreadMutex: @unchecked Sendable {
    private var m = pthread_mutex_t()
    public init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    @inline(__always)
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
