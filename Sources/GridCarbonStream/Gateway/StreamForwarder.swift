import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// The gateway's half of reference §8: takes batches of record lines (from TCP and HTTP ingest) and
/// stores them in the stream, answering each batch only once JetStream has acknowledged every
/// message holding its lines.
///
/// Lines are routed as `publish` routes them (``RecordRouter``): to their meter's partition, to
/// the grid subject, or rejected into `DATA/rejected/` with `replay`'s reasons. One thread of its
/// own (libnats calls block) takes everything queued at once (a *round*, like a group commit),
/// cuts it into messages per subject (``MessageBatcher``: at most `maxLinesPerMessage` lines or
/// `maxBytesPerMessage` bytes, grid lines as barriers) and publishes them in *steps*: a step holds
/// at most one message per subject, and a grid message only with nothing else. A step is
/// published whole and waited for (failed messages sent again by ``JetStreamPublisher``) before
/// the next one starts, so for every subject the stream stores the messages in the order they
/// were cut, however other publishers (devices over MQTT, other gateways) interleave, and
/// without `Nats-Expected-Last-Msg-Id` (which other publishers would keep refusing).
///
/// A message's id is `<subject>:gw:<FNV-1a 64 of the payload, 16 hex digits>` (docs/scale-out.md,
/// "Gateway", says what that deduplicates and what not).
///
/// When a round is not stored within ``Options/timeoutSeconds`` its batches fail with
/// ``ForwardError``; every batch of the same client still queued or submitted later fails too
/// (`earlierNotStored`) until ``clientClosed(_:)``, so nothing of a client is stored ahead of
/// lines that came before it.
public final class StreamForwarder: @unchecked Sendable {
    /// Forwarding settings.
    public struct Options: Sendable {
        /// A message holds at most this many lines and bytes (less than the server's payload limit).
        public var maxLinesPerMessage = 1000
        public var maxBytesPerMessage = 64 * 1024
        /// How long a round may go unstored (the servers unreachable, no stream leader) before its
        /// batches are answered with an error.
        public var timeoutSeconds: Double = 30

        public init() {}
    }

    /// Called with the result of a batch, on the forwarder's thread.
    public typealias Done = @Sendable (Result<ForwardOutcome, any Error>) -> Void

    struct Item {
        var lines: [UInt8]
        var source: String
        var client: UInt64?
        var capture: Int
        /// A line refused before routing (over-long), with its reason.
        var refused: RejectReason?
        var done: Done
        /// Not lines: `client` closed (queued behind its last batch, so a refusal of its
        /// batches lasts until every one of them is answered).
        var closing = false
    }

    /// A message cut from a round, before it is published.
    struct Message {
        var subject: Int
        var payload: [UInt8]
        var lines: Int
    }

    public let connection: NATSConnection
    public let partitions: Int
    public let options: Options
    let layout: StreamLayout
    let subjects: [String]
    let dataDirectory: String
    let report: @Sendable (ForwardReport) -> Void
    let payloadLimit: Int

    // Guarded by `monitor`.
    let monitor = Monitor()
    var queue: [Item] = []
    var stopping = false
    var finished = false
    var poisoned: Set<UInt64> = []
    var connected = true

    // The forwarder's thread only.
    var publisher: JetStreamPublisher
    var router: RecordRouter
    var rejects: OutputDirectory?
    var currentSource = ""

    /// - Parameters:
    ///   - connection: connected; the records stream exists with `partitions` partitions.
    ///   - dataDirectory: where `rejected/` goes.
    ///   - report: called after every round, on the forwarder's thread (metrics).
    public init(connection: NATSConnection, partitions: Int, layout: StreamLayout = StreamLayout(), dataDirectory: String,
                options: Options = Options(), report: @escaping @Sendable (ForwardReport) -> Void = { _ in }) throws(StreamError) {
        self.connection = connection
        self.partitions = partitions
        self.layout = layout
        self.options = options
        self.dataDirectory = dataDirectory
        self.report = report
        subjects = layout.subjects(partitions: partitions)
        // Room for the headers within the server's payload limit.
        payloadLimit = max(1024, connection.maxPayload - 1024)
        router = RecordRouter(partitions: partitions)
        publisher = try JetStreamPublisher(connection, options: Self.publisherOptions(options))
    }

    static func publisherOptions(_ o: Options) -> JetStreamPublisher.Options {
        var p = JetStreamPublisher.Options()
        p.ordered = false
        p.ackWaitMillis = Int64(min(5000, max(200, o.timeoutSeconds * 1000 / 3)))
        p.retrySeconds = o.timeoutSeconds
        return p
    }

    /// Starts the forwarding thread.
    public func start() {
        BlockingThread.start { self.run() }
    }

    /// Queues whole lines (each ending with a newline) from `source` (`tcp:1.2.3.4:5678`, `http`;
    /// named in rejected lines). `client` identifies a connection whose batches must be stored in
    /// order (nil: a batch on its own, as an HTTP request). `done` runs once the stream stored
    /// every line, with the first `capture` rejections, or with the error that means it did not.
    public func submit(_ lines: [UInt8], source: String, client: UInt64?, capture: Int = 0, done: @escaping Done) {
        enqueue(Item(lines: lines, source: source, client: client, capture: capture, refused: nil, done: done))
    }

    /// Queues a line refused before routing (the first bytes of an over-long line), to be written
    /// to `DATA/rejected/` in its client's order.
    public func reject(_ line: [UInt8], reason: RejectReason, source: String, client: UInt64?, done: @escaping Done) {
        enqueue(Item(lines: line, source: source, client: client, capture: 0, refused: reason, done: done))
    }

    /// The connection `client` is gone: once its batches still queued are answered, the forwarder
    /// forgets it.
    public func clientClosed(_ client: UInt64) {
        monitor.locked {
            guard !stopping else { return }
            queue.append(Item(lines: [], source: "", client: client, capture: 0, refused: nil, done: { _ in }, closing: true))
            monitor.broadcast()
        }
    }

    /// Forwards everything queued, then stops the thread; later batches fail. Blocks until done.
    public func stop() {
        monitor.locked {
            stopping = true
            monitor.broadcast()
            while !finished { monitor.wait(until: Clock.monotonic() + 0.5) }
        }
    }

    func enqueue(_ item: Item) {
        let refused: Bool = monitor.locked {
            if stopping { return true }
            queue.append(item)
            monitor.broadcast()
            return false
        }
        if refused { item.done(.failure(ForwardError(.stopping, "the gateway is stopping: send the lines again to another gateway"))) }
    }

    /// Whether the connection was up when the forwarding thread last looked (at most a second
    /// ago, and after every round): a gateway that is not is not ready (`/readyz`).
    public var isConnected: Bool { monitor.locked { connected } }

    func run() {
        while true {
            let up = connection.connectedURL != nil
            let items: [Item] = monitor.locked {
                connected = up
                if queue.isEmpty && !stopping { monitor.wait(until: Clock.monotonic() + 1) }
                defer { queue.removeAll() }
                return queue
            }
            if items.isEmpty && !monitor.locked({ stopping }) { continue }
            if items.isEmpty { break }
            forward(items)
        }
        monitor.locked {
            finished = true
            monitor.broadcast()
        }
    }
}
