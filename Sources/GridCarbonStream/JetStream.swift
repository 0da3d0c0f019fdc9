import CNats

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

    public init(_ connection: NATSConnection, apiTimeoutMillis: Int64 = 5000) throws(StreamError) {
        self.connection = connection
        self.apiTimeoutMillis = apiTimeoutMillis
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
}
