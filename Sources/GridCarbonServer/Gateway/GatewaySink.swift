import GridCarbonEngine
import GridCarbonStream

/// A gateway's ``IngestSink`` (§8): lines go to the stream through a ``StreamForwarder``, and a
/// batch is durable once the stream stored it. In its answers `accepted` counts the lines stored
/// in the stream (the workers decide later which are duplicate or late) and `rejected` the lines
/// refused on the way (the same as `publish` refuses, into `DATA/rejected/`).
final class GatewaySink: IngestSink {
    let forwarder: StreamForwarder

    init(forwarder: StreamForwarder) {
        self.forwarder = forwarder
    }

    func submit(_ lines: [UInt8], source: String, client: UInt64?, capture: Int, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        forwarder.submit(lines, source: source, client: client, capture: capture) { done($0.map(Self.outcome)) }
    }

    func reject(_ line: [UInt8], reason: RejectReason, source: String, client: UInt64?, done: @escaping @Sendable (Result<BatchOutcome, any Error>) -> Void) {
        forwarder.reject(line, reason: reason, source: source, client: client) { done($0.map(Self.outcome)) }
    }

    func clientClosed(_ client: UInt64) {
        forwarder.clientClosed(client)
    }

    static func outcome(_ f: ForwardOutcome) -> BatchOutcome {
        var o = BatchOutcome()
        o.counts.accepted = f.forwarded
        o.counts.rejected = f.rejected
        o.rejections = f.rejections
        return o
    }
}
