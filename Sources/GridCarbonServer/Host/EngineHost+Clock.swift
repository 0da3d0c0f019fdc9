import Dispatch
import GridCarbonEngine

extension EngineHost {
    /// Starts the once-a-second check that moves the watermark with wall time while meters are idle.
    public func startClock() {
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + 1, repeating: 1.0)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    /// On the queue: if no meter record arrived for `idle_timeout`, log and apply a watermark move
    /// to wall time minus the reorder window.
    func tick() {
        dispatchPrecondition(condition: .onQueue(queue))
        // Scale-out engines move with the stream: a worker's idle ticks are messages in its partition.
        guard engine.role == .whole else { return }
        let now = clock.now()
        guard now - lastActivity >= configuration.idleTimeout else { return }
        let w = now - configuration.engine.reorderWindow
        guard w > engine.watermark else { return }
        do {
            let lsn = try log(.watermark(w, receivedAt: now))
            try output.flush()
            queueAlerts(lsn)
        } catch {
            logger.error("watermark move failed", metadata: ["error": "\(error)"])
        }
    }
}
