/// A pull consumer's state as the server holds it (``PullConsumer/state()``): for lag and
/// redelivery metrics.
public struct ConsumerState: Sendable, Equatable {
    /// Messages of its subject not yet delivered.
    public var numPending: UInt64
    /// Delivered, not yet acknowledged.
    public var numAckPending: Int
    /// Messages delivered more than once.
    public var numRedelivered: Int
    /// Stream sequence of the last delivery.
    public var deliveredStreamSequence: UInt64
    /// Stream sequence below which everything is acknowledged.
    public var ackFloorStreamSequence: UInt64

    public init(numPending: UInt64, numAckPending: Int, numRedelivered: Int, deliveredStreamSequence: UInt64, ackFloorStreamSequence: UInt64) {
        self.numPending = numPending
        self.numAckPending = numAckPending
        self.numRedelivered = numRedelivered
        self.deliveredStreamSequence = deliveredStreamSequence
        self.ackFloorStreamSequence = ackFloorStreamSequence
    }
}
