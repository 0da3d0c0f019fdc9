/// What one round of a ``StreamForwarder`` (the batches it took from its queue together) came to,
/// for metrics.
public struct ForwardReport: Sendable {
    /// Batches in the round.
    public var batches = 0
    /// Lines stored in the stream.
    public var forwarded = 0
    /// Lines rejected before forwarding.
    public var rejected = 0
    /// Messages acknowledged, and how many of them the stream already had (same id within its
    /// duplicate window).
    public var messages = 0
    public var duplicates = 0
    /// Messages sent again after a failure the publisher recovered from.
    public var resent = 0
    /// The round was not stored: its batches were answered with an error.
    public var failed = false
    /// Lines of the batches answered with an error.
    public var failedLines = 0

    public init() {}
}
