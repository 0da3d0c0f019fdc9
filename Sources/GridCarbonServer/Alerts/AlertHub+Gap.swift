import GridCarbonIO

extension AlertHub {
    /// The first `seq` after `cursor` that a batch read after it skipped: nil when `batch` follows
    /// `cursor` with no gap, else the batch's first `seq` (retention removed the events between,
    /// reference §5).
    public static func gap(in batch: [AlertLogEntry], after cursor: Int64) -> Int64? {
        guard let first = batch.first, first.seq > cursor + 1 else { return nil }
        return first.seq
    }

    /// For a deliverer (webhook, Alertmanager) at `cursor`: when retention removed events it had
    /// not delivered yet, logs and counts them and returns the cursor moved to just before what
    /// is kept; else `cursor` unchanged.
    func skipPruned(_ batch: [AlertLogEntry], cursor: Int64, target: String) -> Int64 {
        guard let first = Self.gap(in: batch, after: cursor) else { return cursor }
        let skipped = first - cursor - 1
        metrics.skipped(target: target, events: skipped)
        logger.warning("alert events removed from the log before delivery; skipped", metadata: [
            "target": "\(target)", "after": "\(cursor)", "first_kept": "\(first)", "skipped": "\(skipped)",
        ])
        return first - 1
    }
}
