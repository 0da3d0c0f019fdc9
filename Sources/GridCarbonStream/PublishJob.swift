import GridCarbonModel

/// What `gridcarbon publish` runs (``Publish/run(_:progress:)``).
public struct PublishJob: Sendable {
    /// NATS server URL, or a comma-separated list of a cluster's.
    public var urls: String
    /// Record files in order (`.zst` decompressed, `-` for standard input).
    public var inputs: [String]
    /// Where rejected lines go (`DATA/rejected/`), as `replay` writes them.
    public var dataDirectory: String
    /// `P` for a new stream (1 when nil); must equal the stream's when it exists.
    public var partitions: Int?
    /// `R` for new streams.
    public var replicas = 1
    public var layout = StreamLayout()
    /// A message holds at most this many lines, and at most ``maxBytesPerMessage`` bytes.
    /// Message ids depend on it: a re-run is deduplicated only with the same value.
    public var maxLinesPerMessage = 1000
    public var maxBytesPerMessage = 64 * 1024
    /// Longer lines are rejected `line_too_long` (bounded also by the server's payload limit).
    public var maxLineBytes = 1 << 20
    public var publisher = JetStreamPublisher.Options()
    public var connection = NATSConnection.Options()

    public init(urls: String, inputs: [String], dataDirectory: String) {
        self.urls = urls
        self.inputs = inputs
        self.dataDirectory = dataDirectory
        connection.name = "gridcarbon publish"
    }
}

/// The outcome of a publish, for the summary and for tests.
public struct PublishSummary: Sendable {
    /// The stream's `P` and `R`, and whether this run created it.
    public var partitions: Int
    public var replicas: Int
    public var createdStream: Bool
    /// Lines read, all of them (blank and `#` lines included).
    public var lines: Int64 = 0
    /// Blank and `#` lines.
    public var skipped = 0
    /// Lines sent to the meter partitions, and to the grid subject.
    public var meterLines = 0
    public var gridLines = 0
    /// Lines rejected (reasons in `DATA/rejected/`).
    public var rejected = 0
    /// What the stream answered: messages stored, duplicates, resends.
    public var publish = PublishCounts()
    /// Input bytes read (compressed size for `.zst`).
    public var bytes = 0
    public var seconds = 0.0

    /// Record lines per second (the lines routed or rejected).
    public var linesPerSecond: Double { seconds > 0 ? Double(meterLines + gridLines + rejected) / seconds : 0 }
}

/// Progress of a running publish.
public struct PublishProgress: Sendable {
    public var input: String
    public var lines: Int64
    /// Share of the current input read so far, when its size is known.
    public var fraction: Double?
    public var published: Int
    public var rejected: Int
    public var seconds: Double
}
