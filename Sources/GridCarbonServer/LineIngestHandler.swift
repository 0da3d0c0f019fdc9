import NIOConcurrencyHelpers
import GridCarbonEngine
import GridCarbonModel
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection (reference §6): splits the stream into lines, hands whole-line batches to the
/// sink, answers `!sync` in order, and reads more only while few batches are in flight.
///
/// - Auth: when tokens are required, the first line must be `!auth TOKEN`; until it succeeds
///   nothing the client sends reaches the sink (log, side outputs, counters). Anything else gets one
///   `error …` line and the connection is closed.
/// - Over-long lines: each is one `line_too_long` rejection, however the reads split it (reference §4.3).
/// - Half-close: when the client shuts its sending side, a last line without newline is still
///   taken, every pending `!sync` is answered once durable, then the connection closes.
/// - A connection that sends nothing for `readTimeout` (while the daemon waits for it) is closed,
///   and one that has not authenticated within `authSeconds` (or the read timeout if shorter) too (so that idle unauthenticated
///   connections cannot hold every `max_connections` slot).
/// - Answers are backpressured: while the client does not read them (the channel is not writable),
///   the connection reads no more, so a client sending `!sync` or unknown commands without reading
///   cannot make the daemon buffer answers without bound.
/// - Closing waits for the answers written before it (NIO fails pending writes on close).
final class LineIngestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Numbers connections for the sink (``IngestSink`` keeps a client's batches in order).
    static let connections = NIOLockedValueBox<UInt64>(0)
    /// Longest first line before `!auth` succeeds (`!auth` and a token).
    static let maxAuthLineBytes = 4096
    /// Bytes of a line kept in `rejected/` for a `line_too_long`.
    static let keptBytes = 256
    /// After an error line, input read and dropped (so that the error is not lost to a reset) at
    /// most this much, for at most `lingerSeconds`.
    static let lingerBytes = 4 << 20
    static let lingerSeconds: Int64 = 2
    /// Time to send `!auth` when tokens are required.
    static let authSeconds: Int64 = 10
    /// Longest wait for written answers to drain before a close goes ahead anyway.
    static let drainSeconds: Int64 = 10

    let host: any IngestSink
    let client: UInt64
    let source: String
    let maxLineBytes: Int
    let readTimeout: Micros
    let logger: Logger
    let authorize: @Sendable (String?) -> Bool
    let maxInflight = 4

    var carry: [UInt8] = []
    /// Inside an over-long line already rejected: its bytes are dropped up to its newline.
    var skipping = false
    var inflight = 0
    var submitted = 0
    var completed = 0
    var readPending = false
    /// Waiting for room in the engine queue (TCPIngest+Backpressure).
    var parked = false
    var authorized: Bool
    /// Counts since the last `!sync`.
    var taken = 0, refused = 0
    /// `!sync` lines waiting for the batches submitted before them. Batches complete in submission
    /// order (the sink keeps a client's order), so "the latest completed" covers all before it.
    var syncs = CircularBuffer<Int>()
    /// An error was sent: input is dropped, the connection is closing.
    var failed = false
    var lingered = 0
    /// The client shut its sending side.
    var inputClosed = false
    var closing = false
    var lastInput = NIODeadline.now()
    let opened = NIODeadline.now()
    var timer: Scheduled<Void>?
    /// The last answer written: a close waits for it.
    var lastWrite: EventLoopFuture<Void>?
    /// Answers written in this event-loop turn, not yet handed to the channel.
    var out: ByteBuffer?

    init(host: any IngestSink, source: String, maxLineBytes: Int, readTimeout: Micros, logger: Logger,
         requireAuth: Bool, authorize: @escaping @Sendable (String?) -> Bool) {
        self.host = host
        client = Self.connections.withLockedValue { $0 += 1; return $0 }
        self.source = source
        self.maxLineBytes = max(maxLineBytes, Self.keptBytes)
        self.readTimeout = readTimeout
        self.logger = logger
        self.authorize = authorize
        authorized = !requireAuth
    }

    func channelActive(context: ChannelHandlerContext) {
        lastInput = .now()
        scheduleTimeout(context: context, at: nextDeadline())
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        host.clientClosed(client)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        lastInput = .now()
        if failed {
            lingered += buffer.readableBytes
            if lingered > Self.lingerBytes { close(context: context) }
            return
        }
        buffer.withUnsafeReadableBytes { bytes in
            var start = 0
            if skipping {
                // The rest of an over-long line already rejected: dropped up to its newline.
                guard let base = bytes.baseAddress, let nl = memchr(base, 0x0A, bytes.count) else { return }
                start = base.distance(to: UnsafeRawPointer(nl)) + 1
                skipping = false
            }
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
        }
        if !authorized && !authenticate(context: context) { return }
        process(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if failed { if !closing { context.read() }; return }
        if inputClosed { return }
        if mayRead(context: context) { context.read() } else { readPending = true }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let e = event as? ChannelEvent, e == .inputClosed else { return context.fireUserInboundEventTriggered(event) }
        inputClosed = true
        if failed { return close(context: context) }
        // A last line without newline is still a line.
        if !carry.isEmpty && !skipping { carry.append(0x0A) }
        skipping = false
        if authorized || authenticate(context: context) { process(context: context) }
        if !authorized && !failed { return close(context: context) }
        finishIfDone(context: context)
    }

    /// Before `!auth` succeeded: looks at the first line only. Returns true once authorised (the
    /// rest of `carry` is then ordinary input); false while waiting for the line or when refused.
    func authenticate(context: ChannelHandlerContext) -> Bool {
        guard let nl = carry.firstIndex(of: 0x0A) else {
            if carry.count > Self.maxAuthLineBytes { refuse(context: context, "unauthorized: send !auth TOKEN first") }
            return false
        }
        var line = carry[..<nl]
        if line.last == 0x0D { line = line.dropLast() }
        let prefix = Array("!auth ".utf8)
        guard line.count <= Self.maxAuthLineBytes, line.starts(with: prefix) else {
            refuse(context: context, "unauthorized: send !auth TOKEN first")
            return false
        }
        let token = String(decoding: line.dropFirst(prefix.count), as: UTF8.self)
        guard authorize(token) else {
            refuse(context: context, "unauthorized: token unknown or without the ingest role")
            return false
        }
        carry.removeFirst(nl + 1)
        authorized = true
        write("ok auth\n", context: context)
        return true
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
            while i < n, !failed, let nl = memchr(p.baseAddress! + i, 0x0A, n - i) {
                let end = p.baseAddress!.distance(to: UnsafeRawPointer(nl))
                let lineStart = i
                if end - lineStart > maxLineBytes {
                    batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[batchStart..<lineStart]))
                    flush(&batch, context: context)
                    submitTooLong(Array(UnsafeRawBufferPointer(rebasing: p[lineStart..<(lineStart + Self.keptBytes)])), context: context)
                    batchStart = end + 1
                } else if end > lineStart && p[lineStart] == 0x21 {
                    batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[batchStart..<lineStart]))
                    flush(&batch, context: context)
                    var command = String(decoding: UnsafeRawBufferPointer(rebasing: p[lineStart..<end]), as: UTF8.self)
                    if command.hasSuffix("\r") { command.removeLast() }
                    self.command(command, context: context)
                    batchStart = end + 1
                }
                i = end + 1
            }
            if i > batchStart { batch.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[batchStart..<i])) }
            consumed = i
        }
        flush(&batch, context: context)
        if failed { carry = []; return }
        carry.removeFirst(consumed)
        if carry.count > maxLineBytes {
            // No newline in sight: reject the line by its first bytes and drop the rest of it,
            // in this read and the next ones, up to its newline.
            submitTooLong(Array(carry.prefix(Self.keptBytes)), context: context)
            carry.removeAll(keepingCapacity: false)
            skipping = true
        }
    }

    func flush(_ batch: inout [UInt8], context: ChannelHandlerContext) {
        if batch.isEmpty || failed { batch.removeAll(); return }
        submit(batch, tooLong: false, context: context)
        batch = []
    }

    func submitTooLong(_ prefix: [UInt8], context: ChannelHandlerContext) {
        submit(prefix + [0x0A], tooLong: true, context: context)
    }

    /// The one place lines leave the connection for the sink (the engine-queue gate is applied
    /// before reading: ``mayRead(context:)``).
    func submit(_ lines: [UInt8], tooLong: Bool, context: ChannelHandlerContext) {
        if failed || !authorized { return }
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
        if failed { return }
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
        if readPending && !inputClosed && mayRead(context: context) {
            readPending = false
            context.read()
        }
        finishIfDone(context: context)
    }

    func command(_ c: String, context: ChannelHandlerContext) {
        if c == "!sync" {
            syncs.append(submitted)
            answerSyncs(context: context)
        } else if c.hasPrefix("!auth ") {
            if authorize(String(c.dropFirst(6))) {
                write("ok auth\n", context: context)
            } else {
                refuse(context: context, "unauthorized: token unknown or without the ingest role")
            }
        } else {
            write("error unknown command \(c.prefix(40)) (known: !sync, !auth TOKEN)\n", context: context)
        }
    }

    /// Answers every `!sync` whose batches have all completed, in order.
    func answerSyncs(context: ChannelHandlerContext) {
        while let first = syncs.first, completed >= first {
            syncs.removeFirst()
            write("ok \(taken) \(refused)\n", context: context)
            taken = 0
            refused = 0
        }
    }

    /// After a half-close: closes once every batch is done and every `!sync` answered.
    func finishIfDone(context: ChannelHandlerContext) {
        if inputClosed && inflight == 0 && syncs.isEmpty { close(context: context) }
    }

    /// Queues an answer. Answers of one event-loop turn go out as one buffer with one write and
    /// one flush: a write (and its future) per answer costs more than reading the line did, and a
    /// flush per answer retries every pending buffer each time (quadratic when the client does not
    /// read).
    func write(_ s: String, context: ChannelHandlerContext) {
        if out == nil {
            out = context.channel.allocator.buffer(capacity: 256)
            let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.execute { self.flushAnswers(context: ctx.value) }
        }
        out!.writeString(s)
    }

    /// Writes and flushes the answers queued in this turn.
    func flushAnswers(context: ChannelHandlerContext) {
        guard let b = out else { return }
        out = nil
        lastWrite = context.writeAndFlush(wrapOutboundOut(b))
    }

    /// Reading resumes once the client has read enough of its answers.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && readPending && !inputClosed && mayRead(context: context) {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Runs `body` once what was written has gone out (or failed), or after `drainSeconds` if the
    /// client does not read.
    func afterWrites(context: ChannelHandlerContext, _ body: @escaping (ChannelHandlerContext) -> Void) {
        flushAnswers(context: context)
        guard let pending = lastWrite else { return body(context) }
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        let once = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        let run = {
            if once.value { return }
            once.value = true
            body(ctx.value)
        }
        pending.whenComplete { _ in run() }
        context.eventLoop.scheduleTask(in: .seconds(Self.drainSeconds)) { run() }
    }

    /// Sends one `error …` line, shuts the sending side, and drops further input for a moment
    /// before closing (so the client reads the error rather than a reset).
    func refuse(context: ChannelHandlerContext, _ message: String) {
        if failed { return }
        failed = true
        carry = []
        write("error \(message)\n", context: context)
        if inputClosed { return close(context: context) }
        afterWrites(context: context) { $0.close(mode: .output, promise: nil) }
        scheduleTimeout(context: context, at: .now() + .seconds(Self.lingerSeconds + Self.drainSeconds))
        context.read()
    }

    func close(context: ChannelHandlerContext) {
        if closing { return }
        closing = true
        timer?.cancel()
        afterWrites(context: context) { $0.close(promise: nil) }
    }

    /// The read timeout (and, after an error, the end of lingering).
    func scheduleTimeout(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.cancel()
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) { self.timeout(context: ctx.value) }
    }

    func timeout(context: ChannelHandlerContext) {
        if closing { return }
        if failed { return close(context: context) }
        let now = NIODeadline.now()
        if inflight > 0 || readPending || !syncs.isEmpty || inputClosed {
            // The daemon, not the client, is behind: the client is not idle.
            lastInput = now
        }
        if !authorized && now >= authDeadline {
            logger.info("TCP connection closed: no !auth", metadata: ["source": "\(source)"])
            return refuse(context: context, "unauthorized: send !auth TOKEN first (within \(DurationFormat.format(authTime)))")
        }
        let due = nextDeadline()
        if now >= lastInput + .microseconds(readTimeout) {
            logger.info("TCP connection closed: nothing received", metadata: ["source": "\(source)", "read_timeout": "\(DurationFormat.format(readTimeout))"])
            refuse(context: context, "read timeout: nothing received for \(DurationFormat.format(readTimeout))")
        } else {
            scheduleTimeout(context: context, at: due)
        }
    }

    /// Time to authenticate: `authSeconds`, or the read timeout if shorter.
    var authTime: Micros { min(Self.authSeconds * Time.microsPerSecond, readTimeout) }
    var authDeadline: NIODeadline { opened + .microseconds(authTime) }

    /// The read timeout, or the `!auth` deadline if sooner and not yet authorised.
    func nextDeadline() -> NIODeadline {
        let read = lastInput + .microseconds(readTimeout)
        if authorized { return read }
        return min(read, authDeadline)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context)
    }
}

/// A connection over `max_connections`: one error line, then the sending side is shut once it has
/// gone out, input is read and dropped, and the connection closes when the client closes or after
/// `LineIngestHandler.lingerSeconds` (so that the client reads the error, not a reset).
final class ConnectionLimitHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func channelActive(context: ChannelHandlerContext) {
        let s = "error too many connections (max_connections \(limit)): try again later\n"
        var b = context.channel.allocator.buffer(capacity: s.utf8.count)
        b.writeString(s)
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(b)).whenComplete { _ in
            ctx.value.close(mode: .output, promise: nil)
        }
        context.eventLoop.scheduleTask(in: .seconds(LineIngestHandler.lingerSeconds)) {
            ctx.value.close(promise: nil)
        }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelReadComplete(context: ChannelHandlerContext) {
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
