/// Where gridcarbon's records and partial windows live in JetStream (reference §8, `docs/scale-out.md`).
///
/// - Stream `GRIDCARBON`: subjects `gridcarbon.meter.<p>` for the partitions `p = 0..<P` and
///   `gridcarbon.grid`. One stream on purpose: its sequence numbers order the partitions' records
///   and the grid records together, which the merge relies on. A meter's records go to partition
///   ``Partitioning/partition(meterID:count:)``; `f`, `m`, `x`, `o` and `c` records to the grid
///   subject.
/// - Stream `GRIDCARBON_PARTIALS`: subjects `gridcarbon.partial.>`, the workers' partial windows.
///
/// Both use file storage and `R` replicas, and record `P` and `R` in their description
/// (`gridcarbon partitions=4 replicas=3`; nats-server 2.9 has no stream metadata). `P` is fixed
/// when the stream is created.
public struct StreamLayout: Sendable, Equatable {
    /// The records' stream.
    public var stream = "GRIDCARBON"
    /// The partial windows' stream.
    public var partialsStream = "GRIDCARBON_PARTIALS"
    /// First token of every subject.
    public var subjectPrefix = "gridcarbon"
    /// How long JetStream remembers message ids to drop a resend (`Nats-Msg-Id`), in seconds; at
    /// least 10 minutes, so a publish re-run after a failure is deduplicated.
    public var duplicateWindowSeconds = 600

    public init() {}

    /// `gridcarbon.meter.<p>`.
    public func meterSubject(_ partition: Int) -> String { "\(subjectPrefix).meter.\(partition)" }

    /// `gridcarbon.grid`.
    public var gridSubject: String { "\(subjectPrefix).grid" }

    /// `gridcarbon.partial.>`.
    public var partialsSubjects: String { "\(subjectPrefix).partial.>" }

    /// The records' stream subjects for `partitions` partitions: the meter subjects, then the grid.
    public func subjects(partitions: Int) -> [String] {
        (0..<partitions).map(meterSubject) + [gridSubject]
    }

    /// The description both streams carry: `gridcarbon partitions=4 replicas=3`.
    public static func description(partitions: Int, replicas: Int) -> String {
        "gridcarbon partitions=\(partitions) replicas=\(replicas)"
    }

    /// `P` and `R` read back from a stream's description; nil when it is not one of ours.
    public static func parse(description: String) -> (partitions: Int, replicas: Int)? {
        let words = description.split(separator: " ")
        guard words.first == "gridcarbon" else { return nil }
        var p: Int?, r: Int?
        for w in words.dropFirst() {
            if w.hasPrefix("partitions=") { p = Int(w.dropFirst("partitions=".count)) }
            if w.hasPrefix("replicas=") { r = Int(w.dropFirst("replicas=".count)) }
        }
        guard let partitions = p, partitions > 0, let replicas = r, replicas > 0 else { return nil }
        return (partitions, replicas)
    }
}
