import Hummingbird
import HummingbirdCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// At most `limit` HTTP requests handled at once (reference §6, `max_http_requests`): beyond it,
/// 503 `overloaded` with `Retry-After: 1`. `GET /healthz` is not counted.
struct InFlightLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int
    let inFlight = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let admitted = inFlight.withLockedValue { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
        guard admitted else {
            var response = try APIError(.serviceUnavailable, "overloaded", "more than \(limit) requests at once (max_http_requests): try again")
                .response(from: request, context: context)
            response.headers[.retryAfter] = "1"
            return response
        }
        defer { inFlight.withLockedValue { $0 -= 1 } }
        return try await next(request, context)
    }
}

/// The connection side of the slow-client bound (reference §6, `http_idle_timeout`): a
/// connection waiting for a request head (a new connection, or between requests) longer than the
/// timeout is closed, so a head that trickles in, an idle keep-alive connection, or the rest of a
/// body nobody reads is cut off. A request being handled is not timed here (its body is, by
/// ``HTTPBodyClock``), however long the daemon takes to store it. After a 408 or 413 answer the
/// connection is closed: the rest of that body is not read.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let idle: TimeAmount
    /// Heads read minus answers ended (requests being handled, pipelined ones included).
    private var pending = 0
    private var closing = false
    private var timer: Scheduled<Void>?

    init(idle: TimeAmount) {
        self.idle = idle
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            pending += 1
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status.code == 408 || head.status.code == 413 { closing = true }
        case .end:
            pending = max(0, pending - 1)
            if closing {
                let written = promise ?? context.eventLoop.makePromise()
                context.writeAndFlush(data, promise: written)
                let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.futureResult.whenComplete { _ in ctx.value.close(promise: nil) }
                return
            }
            if pending == 0 { arm(context) }
        default:
            break
        }
        context.write(data, promise: promise)
    }

    /// Closes the connection unless a request head arrives within the timeout.
    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: idle) {
            if self.pending == 0 { ctx.value.close(promise: nil) }
        }
    }
}

extension HTTPAPI {
    /// The HTTP/1.1 server with the daemon's slow-client bound (``HTTPConnectionGuard``).
    static func server(_ load: LoadBounds) -> HTTPServerBuilder {
        let idle = TimeAmount.microseconds(load.httpIdleTimeout)
        return .http1(configuration: .init(additionalChannelHandlers: [HTTPConnectionGuard(idle: idle)]))
    }
}
