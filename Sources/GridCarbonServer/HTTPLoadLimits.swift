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

/// Closes the connection once a 408 or 413 answer is written: the rest of that request's body is
/// not read (a slow or oversized body is cut off, not drained).
final class CloseAfterCutOffHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var closing = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            closing = head.status.code == 408 || head.status.code == 413
        case .end where closing:
            closing = false
            let written = promise ?? context.eventLoop.makePromise()
            context.writeAndFlush(data, promise: written)
            let ctx = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in ctx.value.close(promise: nil) }
            return
        default:
            break
        }
        context.write(data, promise: promise)
    }
}

extension HTTPAPI {
    /// The HTTP/1.1 server with the daemon's slow-client bound: a connection idle (or a request
    /// head unfinished) for `http_idle_timeout` is closed, and a cut-off request's connection too.
    static func server(_ load: LoadBounds) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [CloseAfterCutOffHandler()],
                                    idleTimeout: .microseconds(load.httpIdleTimeout)))
    }
}
