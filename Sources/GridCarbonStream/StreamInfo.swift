/// What JetStream says of a stream: its configuration as gridcarbon uses it and its state.
public struct StreamInfo: Sendable, Equatable {
    public var name: String
    /// `gridcarbon partitions=4 replicas=3` for gridcarbon's streams (``StreamLayout``).
    public var description: String
    public var subjects: [String]
    public var replicas: Int
    /// Messages stored now.
    public var messages: UInt64
    public var bytes: UInt64
    /// Sequence of the first and of the last message stored (0 and 0 when the stream never held one).
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    /// The duplicate window, in seconds.
    public var duplicateWindowSeconds: Double
    /// The server leading the stream in a cluster (`server_name`); nil on a single server.
    public var leader: String?

    public init(name: String, description: String, subjects: [String], replicas: Int, messages: UInt64, bytes: UInt64,
                firstSequence: UInt64, lastSequence: UInt64, duplicateWindowSeconds: Double, leader: String? = nil) {
        self.name = name
        self.description = description
        self.subjects = subjects
        self.replicas = replicas
        self.messages = messages
        self.bytes = bytes
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.duplicateWindowSeconds = duplicateWindowSeconds
        self.leader = leader
    }

    /// `P` and `R` from the description, when it is one of gridcarbon's streams.
    public var layout: (partitions: Int, replicas: Int)? { StreamLayout.parse(description: description) }
}
