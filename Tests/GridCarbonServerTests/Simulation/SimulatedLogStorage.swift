import GridCarbonIO
import NIOConcurrencyHelpers

/// A ``LogStorage`` in memory that behaves like a disk that can fail: what was appended but not
/// synced is lost or torn by a crash, an fsync can fail, and an append can be cut short by a
/// crash. TigerBeetle's simulator storage is the model: the host runs its real code on it, and
/// the test decides, from a seed, where the faults fall.
///
/// After ``crash(keepUnsynced:)`` this instance refuses every call (the process it served is
/// dead) and the returned one is the disk as the next process finds it.
final class SimulatedLogStorage: LogStorage, @unchecked Sendable {
    struct Crashed: Error, CustomStringConvertible { var description: String { "simulated crash" } }
    struct SyncFailed: Error, CustomStringConvertible { var description: String { "simulated fsync failure (EIO)" } }

    private struct Segment {
        var bytes: [UInt8] = []
        /// Bytes known to be on the platter.
        var durable = 0
    }

    private struct State {
        var segments: [Int64: Segment] = [:]
        var open: Set<Int64> = []
        var crashed = false
        /// The next sync fails.
        var failNextSync = false
        /// The next append writes this many bytes of its entry, then the process dies.
        var crashInNextAppendAfter: Int?
    }

    private let state: NIOLockedValueBox<State>

    init() { state = NIOLockedValueBox(State()) }
    private init(_ s: State) { state = NIOLockedValueBox(s) }

    /// Makes the next fsync fail.
    func failNextSync() { state.withLockedValue { $0.failNextSync = true } }
    /// Makes the next append write `bytes` bytes of its entry, then crash.
    func crashInNextAppend(after bytes: Int) { state.withLockedValue { $0.crashInNextAppendAfter = bytes } }
    /// Whether the process this storage served is dead.
    var crashed: Bool { state.withLockedValue { $0.crashed } }
    /// Bytes appended and not yet synced, over all segments.
    var unsyncedBytes: Int { state.withLockedValue { $0.segments.values.reduce(0) { $0 + $1.bytes.count - $1.durable } } }

    /// Kills the process: this storage refuses everything from now on. Returns the disk the next
    /// process sees: each segment's synced bytes, plus, of what was not synced, the first
    /// `keepUnsynced(segment, unsyncedCount)` bytes (a torn write keeps a prefix).
    func crash(keepUnsynced: (Int64, Int) -> Int) -> SimulatedLogStorage {
        let survivor: State = state.withLockedValue { s in
            s.crashed = true
            var next = State()
            for (start, seg) in s.segments {
                let unsynced = seg.bytes.count - seg.durable
                let keep = unsynced > 0 ? min(unsynced, max(0, keepUnsynced(start, unsynced))) : 0
                let bytes = Array(seg.bytes[0..<(seg.durable + keep)])
                next.segments[start] = Segment(bytes: bytes, durable: bytes.count)
            }
            return next
        }
        return SimulatedLogStorage(survivor)
    }

    private func alive<T>(_ body: (inout State) throws -> T) throws -> T {
        try state.withLockedValue { s in
            guard !s.crashed else { throw Crashed() }
            return try body(&s)
        }
    }

    func segments() throws -> [Int64] { try alive { $0.segments.keys.sorted() } }

    func read(_ segment: Int64) throws -> [UInt8] { try alive { $0.segments[segment]?.bytes ?? [] } }

    func create(_ segment: Int64) throws {
        try alive { s in
            s.segments[segment] = Segment()
            s.open.insert(segment)
        }
    }

    func openForAppend(_ segment: Int64) throws {
        try alive { s in
            precondition(s.segments[segment] != nil, "no segment \(segment)")
            s.open.insert(segment)
        }
    }

    func append(_ segment: Int64, header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) throws {
        try alive { s in
            precondition(s.open.contains(segment), "segment \(segment) is not open")
            var entry = [UInt8](header)
            entry.append(contentsOf: payload)
            if let cut = s.crashInNextAppendAfter {
                s.crashInNextAppendAfter = nil
                s.segments[segment]!.bytes.append(contentsOf: entry.prefix(cut))
                s.crashed = true
                throw Crashed()
            }
            s.segments[segment]!.bytes.append(contentsOf: entry)
        }
    }

    func sync(_ segment: Int64) throws {
        try alive { s in
            if s.failNextSync {
                s.failNextSync = false
                throw SyncFailed()
            }
            if let seg = s.segments[segment] { s.segments[segment]!.durable = seg.bytes.count }
        }
    }

    func close(_ segment: Int64) { state.withLockedValue { _ = $0.open.remove(segment) } }

    func truncate(_ segment: Int64, to size: Int) throws {
        try alive { s in
            guard var seg = s.segments[segment] else { return }
            seg.bytes.removeLast(seg.bytes.count - size)
            seg.durable = min(seg.durable, size)
            s.segments[segment] = seg
        }
    }

    func remove(_ segment: Int64) { state.withLockedValue { _ = $0.segments.removeValue(forKey: segment) } }

    func size(_ segment: Int64) -> Int64 { state.withLockedValue { Int64($0.segments[segment]?.bytes.count ?? 0) } }
}
