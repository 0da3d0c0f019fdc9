import Dispatch
import GridCarbonEngine
import GridCarbonModel
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The write-ahead log: every accepted batch is appended here before it is acknowledged.
///
/// Layout: segments (``LogStorage``; on disk `<dir>/wal-<first LSN, 20 digits>.log`), each a
/// sequence of entries `[u32 length][u32 CRC-32 of the payload][payload]` (little-endian). A log
/// sequence number (LSN) counts entry bytes across segments, so "durable up to LSN n" is one
/// number. A torn tail (a crash during a write) is cut off on recovery: it was never acknowledged.
///
/// Appends come from one thread (the engine's queue). Durability is group commit: a sync thread
/// fsyncs whatever has been written and completes every waiter it covers, so concurrent
/// producers share fsyncs.
///
/// A failed fsync is final (the kernel may have dropped the pages it could not write, so a retry
/// could report success for data that is gone): waiters get the error, nothing after it is ever
/// acknowledged, and appends throw until the process restarts and recovers from what is durable.
public final class WriteAheadLog: @unchecked Sendable {
    /// When the log is fsynced.
    public enum SyncPolicy: Sendable, Equatable {
        /// As soon as a batch waits for it (group commit).
        case everyBatch
        /// At most this often; waiters wait for the next one.
        case interval(microseconds: Int64)
        /// Never: batches are acknowledged once written (tests, throwaway runs).
        case never
    }

    /// Why a log refuses to go on.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// The error that stopped the log.
        public let underlying: any Error
        public var description: String {
            "the write-ahead log failed and accepts nothing more (\(underlying)); restart gridcarbon to recover from what is durable"
        }
    }

    public let storage: any LogStorage
    public let segmentBytes: Int
    public let policy: SyncPolicy

    // Owned by the appending thread.
    /// First LSN of the segment being appended to.
    public private(set) var segmentStart: Int64 = 0
    private var segmentSize: Int64 = 0
    /// Next LSN to be written.
    public private(set) var endLSN: Int64 = 0

    /// Shared with the sync thread, under its lock.
    private struct Shared {
        var writtenLSN: Int64 = 0
        var syncedLSN: Int64 = 0
        var syncSegment: Int64 = 0
        var waiters: [(lsn: Int64, done: @Sendable (Result<Void, Failure>) -> Void)] = []
        var syncRunning = false
        var retired: [Int64] = []
        var failure: Failure?
        /// Callbacks of durable entries are being called: a callback for a later entry that is
        /// durable already waits in `overtaking` for them, so callbacks run in log order.
        var delivering = false
        var overtaking: [@Sendable (Result<Void, Failure>) -> Void] = []
    }
    private let shared = NIOLockedValueBox(Shared())
    private let syncQueue = DispatchQueue(label: "gridcarbon.wal.sync")
    private let monotonic: @Sendable () -> Double
    /// Called after each fsync with its duration in seconds and the bytes it made durable (metrics).
    public var onSync: (@Sendable (_ seconds: Double, _ bytes: Int64) -> Void)?

    /// Opens the log in `storage` for appending after `endLSN` (as found by
    /// ``recover(storage:from:_:)``). `monotonic` times fsyncs for ``onSync``.
    public init(storage: any LogStorage, segmentBytes: Int = 64 << 20, policy: SyncPolicy = .everyBatch, endLSN: Int64,
                monotonic: @escaping @Sendable () -> Double = Clock.monotonic) throws {
        self.storage = storage
        self.segmentBytes = segmentBytes
        self.policy = policy
        self.monotonic = monotonic
        self.endLSN = endLSN
        // Continue the last segment if there is one, else start one.
        if let last = try storage.segments().last, last <= endLSN {
            try storage.openForAppend(last)
            segmentStart = last
            segmentSize = endLSN - last
        } else {
            try storage.create(endLSN)
            segmentStart = endLSN
            segmentSize = 0
        }
        let start = segmentStart
        shared.withLockedValue {
            $0.writtenLSN = endLSN
            $0.syncedLSN = endLSN
            $0.syncSegment = start
        }
    }

    deinit {
        storage.close(segmentStart)
        for r in shared.withLockedValue({ $0.retired }) { storage.close(r) }
    }

    /// The failure that stopped the log, if one did.
    public var failure: Failure? { shared.withLockedValue { $0.failure } }

    /// Appends one entry; returns the LSN just after it (wait for durability up to that).
    @discardableResult
    public func append(_ payload: UnsafeRawBufferPointer) throws -> Int64 {
        if let failure { throw failure }
        if segmentSize > 0 && segmentSize + Int64(payload.count) + 8 > Int64(segmentBytes) {
            try roll()
        }
        var header = (UInt32(truncatingIfNeeded: payload.count).littleEndian, CRC32.checksum(payload).littleEndian)
        do {
            try withUnsafeBytes(of: &header) { try storage.append(segmentStart, header: $0, payload: payload) }
        } catch {
            // The segment may now end in part of this entry: nothing more can be appended after it.
            throw fail(error)
        }
        let size = Int64(8 + payload.count)
        segmentSize += size
        endLSN += size
        let end = endLSN
        shared.withLockedValue { $0.writtenLSN = end }
        return endLSN
    }

    /// Appends one entry from an array.
    @discardableResult
    public func append(_ payload: [UInt8]) throws -> Int64 {
        try payload.withUnsafeBytes { try append($0) }
    }

    /// Starts a new segment (the old one is fsynced first, so everything before is durable).
    private func roll() throws {
        do { try storage.sync(segmentStart) } catch { throw fail(error) }
        let old = segmentStart
        let end = endLSN
        try storage.create(end)
        segmentStart = end
        segmentSize = 0
        let ready: [@Sendable (Result<Void, Failure>) -> Void] = shared.withLockedValue { s in
            if s.syncRunning { s.retired.append(old) } else { storage.close(old) }
            s.syncSegment = end
            if end > s.syncedLSN { s.syncedLSN = end }
            return Self.takeReady(&s)
        }
        for r in ready { r(.success(())) }
    }

    /// Marks the log failed and fails every waiter; returns the failure to throw.
    private func fail(_ error: any Error) -> Failure {
        let (failure, waiting): (Failure, [@Sendable (Result<Void, Failure>) -> Void]) = shared.withLockedValue { s in
            let f = s.failure ?? Failure(underlying: error)
            s.failure = f
            let w = s.waiters.map(\.done)
            s.waiters = []
            return (f, w)
        }
        for w in waiting { w(.failure(failure)) }
        return failure
    }

    /// Calls `done` (on the sync thread, or at once) when everything up to `lsn` is durable, or
    /// with the failure that means it never will be.
    public func whenDurable(_ lsn: Int64, _ done: @escaping @Sendable (Result<Void, Failure>) -> Void) {
        if policy == .never, failure == nil { done(.success(())); return }
        enum Next { case now, failed(Failure), wait, start }
        let next: Next = shared.withLockedValue { s in
            if let f = s.failure { return .failed(f) }
            if lsn <= s.syncedLSN {
                guard s.delivering else { return .now }
                s.overtaking.append(done)
                return .wait
            }
            s.waiters.append((lsn, done))
            if s.syncRunning { return .wait }
            s.syncRunning = true
            return .start
        }
        switch next {
        case .now: done(.success(()))
        case .failed(let f): done(.failure(f))
        case .wait: break
        case .start: syncQueue.async { self.syncLoop() }
        }
    }

    /// Waits until everything up to `lsn` is durable; throws ``Failure`` when it never will be.
    public func durable(_ lsn: Int64) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            whenDurable(lsn) { c.resume(with: $0.mapError { $0 }) }
        }
    }

    private static func takeReady(_ s: inout Shared) -> [@Sendable (Result<Void, Failure>) -> Void] {
        var ready: [@Sendable (Result<Void, Failure>) -> Void] = []
        let synced = s.syncedLSN
        s.waiters.removeAll { w in
            if w.lsn <= synced { ready.append(w.done); return true }
            return false
        }
        return ready
    }

    private func syncLoop() {
        while true {
            if case .interval(let us) = policy { usleep(UInt32(max(0, min(us, 1_000_000)))) }
            let job: (target: Int64, segment: Int64)? = shared.withLockedValue { s in
                if s.waiters.isEmpty || s.failure != nil { s.syncRunning = false; return nil }
                return (s.writtenLSN, s.syncSegment)
            }
            guard let job else { return }
            let t0 = monotonic()
            do {
                try storage.sync(job.segment)
            } catch {
                _ = fail(error)
                let retired = shared.withLockedValue { s in
                    defer { s.retired = []; s.syncRunning = false }
                    return s.retired
                }
                for r in retired { storage.close(r) }
                return
            }
            let seconds = monotonic() - t0
            let (ready, toClose, synced): ([@Sendable (Result<Void, Failure>) -> Void]?, [Int64], Int64) = shared.withLockedValue { s in
                var synced: Int64 = 0
                if job.target > s.syncedLSN { synced = job.target - s.syncedLSN; s.syncedLSN = job.target }
                let closing = s.retired
                s.retired = []
                return (Self.takeReadyInOrder(&s), closing, synced)
            }
            for c in toClose { storage.close(c) }
            onSync?(seconds, synced)
            if let ready { deliver(ready) }
        }
    }

    /// Makes everything written durable now (checkpoints, shutdown).
    public func syncNow() throws {
        if let failure { throw failure }
        do { try storage.sync(segmentStart) } catch { throw fail(error) }
        let end = endLSN
        let ready = shared.withLockedValue { s in
            s.syncedLSN = max(s.syncedLSN, end)
            return Self.takeReadyInOrder(&s)
        }
        if let ready { deliver(ready) }
    }

    /// The callbacks made ready by a new `syncedLSN`, taken in the same critical section that
    /// moved it: nil when another thread is delivering (they are queued behind its callbacks),
    /// else the caller delivers them (``deliver(_:)``), `delivering` set.
    private static func takeReadyInOrder(_ s: inout Shared) -> [@Sendable (Result<Void, Failure>) -> Void]? {
        let ready = takeReady(&s)
        if s.delivering {
            s.overtaking.append(contentsOf: ready)
            return nil
        }
        s.delivering = true
        return ready
    }

    /// Calls the callbacks of entries just made durable (``takeReadyInOrder(_:)``), in log order,
    /// then any that arrived for later entries meanwhile (they waited in `overtaking`), and clears
    /// `delivering`. A client's acknowledgements thus never overtake each other.
    private func deliver(_ ready: [@Sendable (Result<Void, Failure>) -> Void]) {
        var batch = ready
        while true {
            for r in batch { r(.success(())) }
            batch = shared.withLockedValue { s in
                if s.overtaking.isEmpty { s.delivering = false; return [] }
                defer { s.overtaking = [] }
                return s.overtaking
            }
            if batch.isEmpty { return }
        }
    }

    /// Deletes segments that end at or before `lsn` (everything in them is in a checkpoint).
    public func truncate(before lsn: Int64) throws {
        let segs = try storage.segments()
        for (i, s) in segs.enumerated() where i + 1 < segs.count && segs[i + 1] <= lsn && s != segmentStart {
            storage.remove(s)
        }
    }

    /// Bytes held in segments.
    public func diskBytes() -> Int64 {
        ((try? storage.segments()) ?? []).reduce(0) { $0 + storage.size($1) }
    }
}
