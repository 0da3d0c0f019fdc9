import GridCarbonModel

/// `serve --nats URL` (§8): what this process is in a scale-out deployment, and how it talks to the
/// stream. Defaults suit a deployment on one site; every figure is a setting.
public struct ScaleOutConfiguration: Sendable, Equatable {
    /// What this process does.
    public enum Role: Sendable, Equatable {
        /// Forwards what it takes over TCP and HTTP into the stream.
        case gateway
        /// Runs the engine of each listed partition.
        case worker(partitions: [Int])
        /// Combines the partitions' batches into the files of §4.
        case merge
    }

    /// NATS server URL(s), comma-separated (`nats://10.0.0.1:4222,nats://10.0.0.2:4222`).
    public var url: String
    public var role: Role
    /// Messages per fetch.
    public var fetchBatch = 512
    /// How long a fetch waits for the first message (ms).
    public var fetchWaitMillis: Int64 = 250
    /// The consumers' ack wait (s): a message not acknowledged in this time is delivered again.
    /// Workers acknowledge once a batch is durable, normally within milliseconds.
    public var ackWaitSeconds: Double = 60
    /// Quiet time after which a feeder asks the server whether its consumer has messages waiting
    /// (and re-creates the consumer if so: a stall after a leader change).
    public var stallSeconds: Double = 5
    /// A gateway's limit: how long lines may go unstored (servers unreachable, no stream leader)
    /// before their clients get an error instead of an acknowledgement.
    public var publishTimeoutSeconds: Double = 30

    public init(url: String, role: Role) {
        self.url = url
        self.role = role
    }
}
