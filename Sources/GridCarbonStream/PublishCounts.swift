/// What a ``JetStreamPublisher`` got back from the stream.
public struct PublishCounts: Sendable, Equatable {
    /// Messages acknowledged (stored now, or found already stored).
    public var messages = 0
    /// Messages the stream stored now.
    public var stored = 0
    /// Messages the stream had already (their `Nats-Msg-Id` was within its duplicate window): a
    /// resend of the same input, or a message sent again after a lost acknowledgement.
    public var duplicates = 0
    /// Lines in the duplicate messages.
    public var duplicateLines = 0
    /// Messages sent again after a failure (a node lost, a leader election, a timeout).
    public var resent = 0
    /// Messages stored at a lower stream sequence than one sent before them. Always 0: a message
    /// is sent with the id of its predecessor as `Nats-Expected-Last-Msg-Id` while that one is
    /// unacknowledged, so the stream refuses to store out of order (kept as a check).
    public var outOfOrder = 0
    /// Stream sequence of the last message stored now (0 when none).
    public var lastSequence: UInt64 = 0

    public init() {}
}
