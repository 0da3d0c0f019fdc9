import NIOConcurrencyHelpers
import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// TCP line ingest (§6): lines of §2.2, one connection per producer. A line `!sync` is answered
/// `ok <accepted> <rejected>` once every line before it on the connection is durable, where
/// `accepted` counts the lines taken (accepted, duplicate or late) and `rejected` the refused
/// ones, both since the previous `!sync`.
///
/// Backpressure: the socket is read only while fewer than `maxInflight` batches of the connection
/// wait for the sink (the engine and the log, or the stream on a gateway), so a producer faster
/// than the sink is slowed by TCP itself and memory stays bounded. At most `maxConnections` are
/// open at once (beyond, one error line and close); each connection is handled by a
/// ``LineIngestHandler`` (auth, line limits, half-close, read timeout: reference §6).
public final class TCPIngestService: Service, @unchecked Sendable {
    let host: any IngestSink
    let address: String
    let port: Int
    let maxLineBytes: Int
    let readTimeout: Micros
    let maxConnections: Int
    let logger: Logger
    let authorize: @Sendable (String?) -> Bool
    let requireAuth: Bool
    private let boundPort = PThreadBox<Int?>(nil)

    /// - Parameter authorize: called with the token a connection presents (`!auth TOKEN` as its
    ///   first line) when `requireAuth` is true.
    /// - Parameter readTimeout: a connection that sends nothing for this long is closed.
    /// - Parameter maxConnections: connections open at once; beyond, one error line and close.
    public init(host: any IngestSink, address: String, port: Int, maxLineBytes: Int,
                readTimeout: Micros = 5 * Time.microsPerMinute, maxConnections: Int = 1024, logger: Logger,
                requireAuth: Bool = false, authorize: @escaping @Sendable (String?) -> Bool = { _ in true }) {
        self.host = host
        self.address = address
        self.port = port
        self.maxLineBytes = maxLineBytes
        self.readTimeout = readTimeout
        self.maxConnections = maxConnections
        self.logger = logger
        self.requireAuth = requireAuth
        self.authorize = authorize
    }

    /// The port actually bound (useful with port 0 in tests).
    public var localPort: Int? { boundPort.value }

    public func run() async throws {
        let host = self.host, maxLine = maxLineBytes, logger = self.logger, requireAuth = self.requireAuth, authorize = self.authorize
        let readTimeout = self.readTimeout, maxConnections = self.maxConnections
        let open = NIOLockedValueBox(0)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
            .childChannelInitializer { channel in
                let peer = channel.remoteAddress.map { "tcp:\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "tcp"
                let admitted = open.withLockedValue { n in
                    if n >= maxConnections { return false }
                    n += 1
                    return true
                }
                guard admitted else {
                    logger.warning("TCP connection refused: max_connections reached", metadata: ["source": "\(peer)", "max_connections": "\(maxConnections)"])
                    return channel.pipeline.addHandler(ConnectionLimitHandler(limit: maxConnections))
                }
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                return channel.pipeline.addHandler(LineIngestHandler(host: host, source: peer, maxLineBytes: maxLine, readTimeout: readTimeout,
                                                                     logger: logger, requireAuth: requireAuth, authorize: authorize))
            }
        let channel = try await bootstrap.bind(host: address, port: port).get()
        boundPort.value = channel.localAddress?.port
        logger.info("TCP ingest listening", metadata: ["address": "\(address):\(channel.localAddress?.port ?? port)"])
        try? await gracefulShutdown()
        try? await channel.close()
    }
}

/// A tiny locked box.
final class PThreadBox<T>: @unchecked Sendable {
    private let lock = NIOLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}

