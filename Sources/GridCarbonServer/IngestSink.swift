import GridCarbonEngine

/// Where TCP and HTTP ingest hand the lines they take: the engine host (a daemon) or, on a
/// gateway (§8), the stream forwarder. Authentication, line length limits and the `!sync`
/// protocol stay with the ingest; the sink decides what "durable" means.
public protocol IngestSink: AnyObject, Sendable {
    /// Takes whole lines (`lines` ends with a newline) from `source`. `client` names a connection
    /// whose batches are taken in order (nil: a batch on its own). `done` runs once the lines are
    /// durable, with the batch's counts and its first `capture` rejections, or with the error
    /// that means they are not. Batches of one client complete in submission order.
    func submit(_ lines: [UInt8], source: String, client: UInt64?, capture: Int, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void)

    /// Takes a line refused before parsing (an over-long line's first bytes) as rejected for `reason`.
    func reject(_ line: [UInt8], reason: RejectReason, source: String, client: UInt64?, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void)

    /// The connection `client` closed.
    func clientClosed(_ client: UInt64)

    /// The bound on bytes queued for the engine that producers wait on (nil: none).
    var queueGate: EngineQueueGate? { get }
}

extension IngestSink {
    public var queueGate: EngineQueueGate? { nil }

    /// Async form of ``submit(_:source:client:capture:done:)``.
    public func submit(_ lines: [UInt8], source: String, client: UInt64? = nil, capture: Int = 0) async throws -> BatchOutcome {
        try await withCheckedThrowingContinuation { c in
            submit(lines, source: source, client: client, capture: capture) { c.resume(with: $0) }
        }
    }
}
