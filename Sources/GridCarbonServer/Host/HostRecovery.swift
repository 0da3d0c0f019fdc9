import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging

/// Recovery at start: the newest checkpoint that loads (with the registry in force when it was
/// taken), then the log after it, each entry applied exactly as it was live
/// (``LogEntry/apply(to:output:)``).
struct HostRecovery {
    /// Side outputs are named after the log segment their lines were logged in, so that replaying a
    /// segment rewrites its side outputs: `wal-<first LSN, 20 digits>` (`.ndjson.zst` follows).
    static let sideNames = SequenceName(prefix: "wal-", suffix: "")

    /// Where recovery left things.
    struct State {
        /// The recovered engine; nil when the data folder held nothing.
        var engine: Engine?
        /// End of the log (the next entry goes there).
        var walEnd: Int64
        /// Side-output segment the last replayed entry was in (-1: none).
        var sideSegment: Int64
        /// LSN of the checkpoint restored (0: none).
        var checkpointLSN: Int64
        /// Log entries replayed.
        var entries: Int
    }

    let storage: any LogStorage
    let checkpoints: CheckpointStore
    let output: OutputDirectory
    let sink: HostSink
    /// The registry file in force (nil: the daemon runs without one).
    let configured: Registry?
    let meterLevel: Bool
    /// A fresh engine over a registry.
    let makeEngine: (Registry) -> Engine

    func run() throws -> State {
        var state = State(engine: nil, walEnd: 0, sideSegment: -1, checkpointLSN: 0, entries: 0)
        let empty = Registry(meterLevel: meterLevel)
        // Side outputs name sources by the engine's numbering: the engine that carries on.
        func install(_ e: Engine) {
            state.engine = e
            output.sourceNames = { e.sourceNames }
        }
        if let c = try checkpoints.loadNewest(make: { makeEngine($0 ?? configured ?? empty) }) {
            install(c.engine)
            state.checkpointLSN = c.header.lsn
            state.sideSegment = c.header.sideSegment
            try output.resumeSideOutputs(name: Self.sideNames.name(c.header.sideSegment), sizes: c.header.sideSizes)
        }
        let from = state.checkpointLSN
        let segments = try storage.segments()
        // Without a checkpoint that loads, the log must start at 0.
        if let first = segments.first, first > from {
            throw HostError(.missingLogSegments, from > 0
                ? "the write-ahead log starts at \(first) but the checkpoint needs it from \(from): log segments are missing"
                : "no checkpoint loads and the write-ahead log starts at \(first), not 0: the state before it is lost; restore a checkpoint (see the warnings above) or start with an empty data folder")
        }
        state.walEnd = try WriteAheadLog.recover(storage: storage, from: from) { after, payload in
            // Side outputs are named after the segment an entry is in, and rewritten on replay.
            let start = segments.last { $0 < after } ?? 0
            if start != state.sideSegment {
                state.sideSegment = start
                try output.switchSideOutputs(to: Self.sideNames.name(start), fresh: true)
            }
            // Without a checkpoint the log is read from its start: a log that starts with a
            // registry entry (every new data folder's does) starts from an empty registry; an
            // older one from the registry file.
            let current = state.engine ?? makeEngine(payload.first == LogEntry.Kind.registry.rawValue ? empty : configured ?? empty)
            if state.engine == nil { install(current) }
            sink.batchStarted = sink.monotonic()
            let next = try LogEntry.apply(payload, to: current, output: output)
            if next !== current { install(next) }
            state.entries += 1
        }
        return state
    }
}
