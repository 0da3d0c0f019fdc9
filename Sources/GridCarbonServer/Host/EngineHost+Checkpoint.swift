import Dispatch
import GridCarbonEngine

extension EngineHost {
    /// On the queue: writes a checkpoint of the engine at the current log position
    /// (``CheckpointStore``), then drops the log segments it makes unnecessary.
    func writeCheckpoint() throws {
        dispatchPrecondition(condition: .onQueue(queue))
        try output.flush()
        try beforeCheckpoint?()
        // Every alert event the checkpoint counts must reach the alert log first: a restart from
        // this checkpoint does not raise them again.
        try wal.syncNow()
        releaseAlerts(upTo: wal.endLSN)
        let header = CheckpointStore.Header(lsn: wal.endLSN, sideSegment: sideOutputSegment, sideSizes: output.sideOutputSizes())
        let written = try checkpoints.write(header, engine: engine)
        checkpointLSN = header.lsn
        if let keep = written.keepLogFrom { try wal.truncate(before: keep) }
        logger.debug("checkpoint written", metadata: ["lsn": "\(header.lsn)", "bytes": "\(written.bytes)"])
    }

    /// On the queue: checkpoints when enough log has accumulated since the last one.
    func checkpointIfDue() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard wal.endLSN - checkpointLSN >= configuration.checkpointBytes else { return }
        do { try writeCheckpoint() } catch {
            logger.error("checkpoint failed", metadata: ["error": "\(error)"])
        }
    }
}
