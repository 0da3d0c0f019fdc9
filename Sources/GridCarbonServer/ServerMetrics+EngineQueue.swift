import CoreMetrics

extension ServerMetrics {
    /// The engine queue bound (reference §6, `engine_queue_bytes`): bytes queued now
    /// (`gridcarbon_engine_queue_bytes`) and how many times a producer has waited for room
    /// (`gridcarbon_engine_queue_waits_total`). Read when `/metrics` is asked for.
    func recordEngineQueue(_ gate: EngineQueueGate) {
        CoreMetrics.Gauge(label: "gridcarbon_engine_queue_bytes", factory: factory).record(gate.queuedBytes)
        engineQueueWaits(Int64(gate.waits))
    }
}
