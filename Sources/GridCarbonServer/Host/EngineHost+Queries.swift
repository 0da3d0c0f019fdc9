import Dispatch
import GridCarbonEngine
import GridCarbonModel

extension EngineHost {
    /// On the queue: keeps the newest windows per length for the API.
    func remember(_ w: ClosedWindow) {
        dispatchPrecondition(condition: .onQueue(queue))
        var list = recent[w.length, default: []]
        list.append(w)
        if list.count > recentLimit { list.removeFirst(list.count - recentLimit) }
        recent[w.length] = list
        onWindow?(w)
        // Emissions today per province, refreshed as the shortest windows close.
        if let onProvinceToday, w.length == configuration.engine.windows.min() {
            onProvinceToday(engine.totals.rollUp(level: .province, registry: engine.registry).day.map(\.co2))
        }
    }

    /// p50, p99 and max of the last 10,000 window writes (slot close to file renamed), in seconds.
    public func windowWriteLatency() async -> (p50: Double, p99: Double, max: Double, count: Int) {
        await onQueue {
            let v = self.sink.writeSeconds.sorted()
            guard !v.isEmpty else { return (0, 0, 0, 0) }
            let at = { (q: Double) in v[min(v.count - 1, Int((Double(v.count) * q).rounded(.up)) - 1)] }
            return (at(0.5), at(0.99), v.last!, v.count)
        }
    }

    /// The newest closed windows of a length (all lengths when nil), oldest first.
    public func recentWindows(length: Micros?) async -> [ClosedWindow] {
        await onQueue {
            if let length { return self.recent[length] ?? [] }
            return self.recent.keys.sorted().flatMap { self.recent[$0] ?? [] }
        }
    }

    /// Runs `body` on the queue with the engine.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Engine) -> T) async -> T {
        await onQueue { body(self.engine) }
    }

    /// Flushes side outputs (called periodically so operators see rejections promptly).
    public func flushSideOutputs() {
        queue.async { try? self.output.flush() }
    }

    /// Bytes of log on disk.
    public var walBytes: Int64 { wal.diskBytes() }

    /// Called after every log fsync with its duration (metrics).
    public var onSync: (@Sendable (_ seconds: Double, _ bytes: Int64) -> Void)? {
        get { wal.onSync }
        set { wal.onSync = newValue }
    }

    /// Stops the clock, makes everything durable and flushes side outputs. Windows still open stay
    /// open: they are in the log, and a restart continues them.
    public func shutdown() async {
        timer?.cancel()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            queue.async {
                do {
                    try self.output.flush()
                    try self.wal.syncNow()
                    // A checkpoint at shutdown makes the next start quick.
                    if self.wal.endLSN > self.checkpointLSN { try self.writeCheckpoint() }
                } catch {
                    self.logger.error("shutdown flush failed", metadata: ["error": "\(error)"])
                }
                c.resume()
            }
        }
    }
}
