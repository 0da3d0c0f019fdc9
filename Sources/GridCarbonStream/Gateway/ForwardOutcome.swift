/// What a ``StreamForwarder`` did with one submitted batch, once the stream stored it.
public struct ForwardOutcome: Sendable {
    /// Record lines stored in the stream (routed to a partition or the grid subject).
    public var forwarded = 0
    /// Lines rejected before forwarding (reasons in `DATA/rejected/`).
    public var rejected = 0
    /// The first rejections of the batch: line number within the batch (from 1), reason code, line.
    public var rejections: [(line: Int64, reason: String, text: String)] = []

    public init() {}
}
