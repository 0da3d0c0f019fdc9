import CNats
import GridCarbonIO

#if canImport(Glibc)
import Glibc
#endif

/// A JetStream context on a connection: stream and consumer management (``ensureStreams(_:partitions:replicas:)``,
/// ``streamInfo(_:)``, ``deleteConsumer(stream:durable:)``) and the factory of pull consumers
/// (``PullConsumer``). Publishing has contexts of its own (``JetStreamPublisher``).
///
/// Calls block for up to ``apiTimeoutMillis``; use it from threads of your own.
public final class JetStream: @unchecked Sendable {
    public let connection: NATSConnection
    let context: OpaquePointer
    /// How long a JetStream API request (stream info, consumer creation) may take.
    public let apiTimeoutMillis: Int64
    /// How long API requests are tried again while they time out or find no leader: a cluster
    /// that lost a node elects new leaders for its streams and consumers within seconds.
    public let failoverSeconds: Double

    public init(_ connection: NATSConnection, apiTimeoutMillis: Int64 = 5000, failoverSeconds: Double = 30) throws(StreamError) {
        self.connection = connection
        self.apiTimeoutMillis = apiTimeoutMillis
        self.failoverSeconds = failoverSeconds
        var opts = jsOptions()
        jsOptions_Init(&opts)
        opts.Wait = apiTimeoutMillis
        var js: OpaquePointer?
        try NATSStatus.check(natsConnection_JetStream(&js, connection.handle, &opts), .jetStream, "cannot open a JetStream context")
        context = js!
    }

    deinit {
        jsCtx_Destroy(context)
    }

    /// Options for one API call (the context's wait).
    func options() -> jsOptions {
        var opts = jsOptions()
        jsOptions_Init(&opts)
        opts.Wait = apiTimeoutMillis
        return opts
    }

    /// Runs one API request (`body` fills in its options and error code), again with a growing
    /// pause while it fails the way a failing-over cluster makes it fail (no answer in time, no
    /// responder, no leader), for up to ``failoverSeconds``. The requests tried again are
    /// idempotent or their repeat is recognized (a stream or consumer that now exists).
    func call(_ body: (inout jsOptions, inout jsErrCode) -> natsStatus) -> (natsStatus, jsErrCode) {
        let giveUp = Clock.monotonic() + failoverSeconds
        var pause = 0.1
        while true {
            var opts = options()
            var jerr = jsErrCode(rawValue: 0)
            let s = body(&opts, &jerr)
            if s == NATS_OK || !Self.isFailover(s, jerr) || connection.isClosed || Clock.monotonic() + pause > giveUp { return (s, jerr) }
            usleep(useconds_t(pause * 1e6))
            pause = min(pause * 2, 1)
        }
    }

    /// Failures that a cluster electing a leader causes, and that pass.
    static func isFailover(_ s: natsStatus, _ jerr: jsErrCode) -> Bool {
        s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED
            || jerr == JSClusterNotAvailErr || jerr == JSClusterNotLeaderErr || jerr == JSClusterIncompleteErr
    }
}
