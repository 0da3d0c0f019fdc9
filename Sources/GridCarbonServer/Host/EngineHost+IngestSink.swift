import GridCarbonEngine

/// The daemon's sink: every batch goes through the write-ahead log into the engine, one queue,
/// so batches complete in submission order whatever the client.
extension EngineHost: IngestSink {
    public func submit(_ lines: [UInt8], source: String, client: UInt64?, capture: Int, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        submit(lines, source: source, capture: capture, done: done)
    }

    public func reject(_ line: [UInt8], reason: RejectReason, source: String, client: UInt64?, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        reject(line, reason: reason, source: source, done: done)
    }

    public func clientClosed(_ client: UInt64) {}

    public var queueGate: EngineQueueGate? { gate }
}
