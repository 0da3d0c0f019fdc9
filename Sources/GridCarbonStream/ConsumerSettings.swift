/// A durable pull consumer's configuration (``PullConsumer``).
public struct ConsumerSettings: Sendable, Equatable {
    /// Where a new consumer starts.
    public enum Start: Sendable, Equatable {
        /// From the first message of the stream.
        case all
        /// From this stream sequence on (a worker's checkpoint plus one).
        case sequence(UInt64)
    }

    /// How deliveries are acknowledged.
    public enum Acknowledgement: Sendable, Equatable {
        /// Each message on its own.
        case explicit
        /// Acknowledging a message acknowledges every earlier one of the consumer.
        case all
    }

    /// The stream (`GRIDCARBON`).
    public var stream: String
    /// The consumer's durable name (letters, digits, `-`, `_`; no `.`): `worker-p3`.
    public var durable: String
    /// The one subject it reads: `gridcarbon.meter.3`, `gridcarbon.grid`.
    public var filterSubject: String
    public var start: Start = .all
    public var acknowledgement: Acknowledgement = .explicit
    /// How long the server waits for an acknowledgement before delivering a message again.
    public var ackWaitSeconds: Double = 30
    /// Messages delivered and not yet acknowledged, at most; the server stops delivering beyond.
    public var maxAckPending: Int = 10_000

    public init(stream: String, durable: String, filterSubject: String) {
        self.stream = stream
        self.durable = durable
        self.filterSubject = filterSubject
    }
}
