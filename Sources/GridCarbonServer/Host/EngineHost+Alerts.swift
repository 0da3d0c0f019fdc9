import Dispatch
import GridCarbonEngine

extension EngineHost {
    /// The alerts firing now, as the engine sees them (the hub's view may lag by one fsync).
    public func activeAlerts() async -> [AlertEvent] { await read { $0.activeAlerts } }

    /// On the queue, after applying the entry at `lsn`: holds the alert events it raised until the
    /// entry is durable, so no subscriber ever sees an event that a crash could take back.
    func queueAlerts(_ lsn: Int64) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !sink.alerts.isEmpty else { return }
        let events = sink.alerts
        sink.alerts = []
        alertQueue.withLockedValue { $0.append((lsn, events)) }
        wal.whenDurable(lsn) { [self] result in
            // A log that failed releases nothing: the events are raised again after recovery.
            if case .success = result { releaseAlerts(upTo: lsn) }
        }
    }

    /// Hands every queued event of entries up to `lsn` (all durable) to ``onAlerts``, in order.
    func releaseAlerts(upTo lsn: Int64) {
        alertQueue.withLockedValue { queue in
            var ready: [AlertEvent] = []
            while let first = queue.first, first.lsn <= lsn {
                ready.append(contentsOf: first.events)
                queue.removeFirst()
            }
            if !ready.isEmpty { onAlerts?(ready) }
        }
    }

    /// The alert events recovery regenerated from the log (their entries are durable). Subscribers
    /// skip those already in the alert log by `seq`.
    public func takeRecoveredAlerts() async -> [AlertEvent] {
        await onQueue {
            let events = self.recoveredAlerts
            self.recoveredAlerts = []
            return events
        }
    }
}
