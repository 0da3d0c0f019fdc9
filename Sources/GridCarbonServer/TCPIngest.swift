import NIOConcurrencyHelpers
import GridCarbonEngine
import GridCarbonIO
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// TCP line ingest (§6): lines of §2.2, one connection per producer. A line `!sync` is answered
/// `ok <accepted> <rejected>` once every line before it on the connection is durable, where
/// `accepted` counts the lines taken (accepted, duplicate or late) and `rejected` the refused
/// ones, both since the previous `!sync`.
///
/// Backpressure: the socket is read only while fewer than `maxInflight` batches of the connection
/// wait for the sink (the engine and the log, or the stream on a gateway), so a producer faster
/// than the sink is slowed by TCP itself and memory stays bounded.
public final class TCPIngestService: Service, @unchecked Sendable {
    let host: any IngestSink
    let address: String
    let port: Int
    let maxLineBytes: Int
    let logger: Logger
    let authorize: @Sendable (String?) -> Bool
    let requireAuth: Bool
    private let boundPort = PThreadBox<Int?>(nil)

    /// - Parameter authorize: called with the token a connection presents (`!auth TOKEN` as its
    ///   first line) when `requireAuth` is true.
    public init(host: any IngestSink, address: String, port: Int, maxLineBytes: Int, logger: Logger,
                requireAuth: Bool = false, authorize: @escaping @Sendable (String?) -> Bool = { _ in true }) {
        self.host = host
        self.address = address
        self.port = port
        self.maxLineBytes = maxLineBytes
        self.logger = logger
        self.requireAuth = requireAuth
        self.authorize = authorize
    }

    /// The port actually bound (useful with port 0 in tests).
    public var localPort: Int? { boundPort.value }

    public func run() async throws {
        let host = self.host, maxLine = maxLineBytes, logger = self.logger, requireAuth = self.requireAuth, authorize = self.authorize
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
            .childChannelInitializer { channel in
                let peer = channel.remoteAddress.map { "tcp:\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "tcp"
                return channel.pipeline.addHandler(LineIngestHandler(host: host, source: peer, maxLineBytes: maxLine, logger: logger,
                                                                     requireAuth: requireAuth, authorize: authorize))
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


/// One connection: splits the stream at the last newline, hands whole-line batches to the host,
/// answers `!sync` in order, and reads more only while few batches are in flight.
final class LineIngestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Numbers connections for the sink (``IngestSink`` keeps a client's batches in order).
    static let connections = NIOLockedValueBox<UInt64>(0)

    let host: any IngestSink
    let client: UInt64
    let source: String
    let maxLineBytes: Int
    let logger: Logger
    let requireAuth: Bool
    let authorize: @Sendable (String?) -> Bool
    let maxInflight = 4

    var carry: [UInt8] = []
    var skipping = false
    var inflight = 0
    var submitted = 0
    var completed = 0
    var readPending = false
    /// Waiting for room in the engine queue (TCPIngest+Backpressure).
    var parked = false
    var authorized: Bool
    /// Counts since the last `!sync`, and the syncs waiting for their batches.
    var taken = 0, refused = 0
    /// `!sync` lines waiting for the batches submitted before them. Batches complete in submission
    /// order (the sink keeps a client's order), so "the latest completed" covers all before it.
    var syncs: [(afterBatch: Int, taken: Int, refused: Int)] = []
    var failed = false

    init(host: any IngestSink, source: String, maxLineBytes: Int, logger: Logger, requireAuth: Bool, authorize: @escaping @Sendable (String?) -> Bool) {
        self.host = host
        client = Self.connections.withLockedValue { $0 += 1; return $0 }
        self.source = source
        self.maxLineBytes = maxLineBytes
        self.logger = logger
        self.requireAuth = requireAuth
        self.authorize = authorize
        authorized = !requireAuth
    }

    func channelActive(context: ChannelHandlerContext) {
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        host.clientClosed(client)
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        // Reads are driven by `channelReadComplete` and completions below.
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { carry.append(contentsOf: $0) }
        process(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if mayRead(context: context) { context.read() } else { readPending = true }
    }

    /// Takes every whole line out of `carry`: data lines become batches, `!` lines are commands,
    /// over-long lines are rejected on their own.
    func process(context: ChannelHandlerContext) {
        var batch: [UInt8] = []
        var consumed = 0
        carry.withUnsafeBytes { p in
            let n = p.count
            var batchStart = 0
            var i = 0
            while i < n, let nl = memchr(p.baseAddress! + i, 0x0A, n - i) {
                let end = p.baseAddress!.distance(to: UnsafeRawPointer(nl))
                let lineStart = i
                if skipping {
                    // The rest of an over-long line already rejected.
                    skipping = false
                    batchStart = end + 1
                } else if end > lineStart && p[lineStart] == 0x21 {
                    batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[batchStart..<lineStart]))
                    flush(&batch, context: context)
                    var command = String(decoding: UnsafeRawBufferPointer(rebasing: p[lineStart..<end]), as: UTF8.self)
                    if command.hasSuffix("\r") { command.removeLast() }
                    self.command(command, context: context)
                    batchStart = end + 1
                } else if end - lineStart > maxLineBytes {
                    batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[batchStart..<lineStart]))
                    flush(&batch, context: context)
                    submit(Array(UnsafeRawBufferPointer(rebasing: p[lineStart..<(lineStart + 256)])) + [0x0A], tooLong: true, context: context)
                    batchStart = end + 1
                }
                i = end + 1
            }
            if i > batchStart { batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[batchStart..<i])) }
            consumed = i
        }
        flush(&batch, context: context)
        carry.removeFirst(consumed)
        if carry.count > maxLineBytes {
            // No newline in sight: reject the line by its first bytes and drop the rest of it.
            submit(Array(carry.prefix(256)) + [0x0A], tooLong: true, context: context)
            carry.removeAll(keepingCapacity: true)
            skipping = true
        }
    }

    func flush(_ batch: inout [UInt8], context: ChannelHandlerContext) {
        if batch.isEmpty || failed { batch.removeAll(); return }
        if !authorized {
            batch.removeAll()
            refuse(context: context, "unauthorized: send !auth TOKEN first")
            return
        }
        submit(batch, tooLong: false, context: context)
        batch = []
    }

    func submit(_ lines: [UInt8], tooLong: Bool, context: ChannelHandlerContext) {
        if failed { return }
        submitted += 1
        inflight += 1
        let number = submitted
        let loop = context.eventLoop
        let ctx = NIOLoopBound(context, eventLoop: loop)
        let done: @Sendable (Result<BatchOutcome, any Error>) -> Void = { result in
            loop.execute { self.completed(number, result, context: ctx.value) }
        }
        if tooLong {
            host.reject(lines, reason: .lineTooLong, source: source, client: client, done: done)
        } else {
            host.submit(lines, source: source, client: client, capture: 0, done: done)
        }
    }

    func completed(_ number: Int, _ result: Result<BatchOutcome, any Error>, context: ChannelHandlerContext) {
        inflight -= 1
        completed = max(completed, number)
        switch result {
        case .success(let o):
            taken += o.counts.accepted + o.counts.duplicate + o.counts.late
            refused += o.counts.rejected
        case .failure(let e):
            logger.error("ingest failed", metadata: ["source": "\(source)", "error": "\(e)"])
            refuse(context: context, "\(e)")
            return
        }
        answerSyncs(context: context)
        if readPending && mayRead(context: context) {
            readPending = false
            context.read()
        }
    }

    func command(_ c: String, context: ChannelHandlerContext) {
        if c == "!sync" {
            syncs.append((submitted, 0, 0))
            answerSyncs(context: context)
        } else if c.hasPrefix("!auth ") {
            authorized = authorize(String(c.dropFirst(6)))
            write("\(authorized ? "ok auth" : "error unauthorized")\n", context: context)
            if !authorized { failed = true; context.close(promise: nil) }
        } else if c == "!auth" || !authorized {
            refuse(context: context, "unauthorized: send !auth TOKEN first")
        } else {
            write("error unknown command \(c.prefix(40)) (known: !sync, !auth TOKEN)\n", context: context)
        }
    }

    /// Answers every `!sync` whose batches have all completed, in order.
    func answerSyncs(context: ChannelHandlerContext) {
        while let first = syncs.first, completed >= first.afterBatch {
            syncs.removeFirst()
            write("ok \(taken) \(refused)\n", context: context)
            taken = 0
            refused = 0
        }
    }

    func write(_ s: String, context: ChannelHandlerContext) {
        var b = context.channel.allocator.buffer(capacity: s.utf8.count)
        b.writeString(s)
        context.writeAndFlush(wrapOutboundOut(b), promise: nil)
    }

    func refuse(context: ChannelHandlerContext, _ message: String) {
        if failed { return }
        failed = true
        write("error \(message)\n", context: context)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
