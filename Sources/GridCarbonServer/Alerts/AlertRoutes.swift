import GridCarbonEngine
import GridCarbonIO
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/alerts` and `GET /v1/alerts/stream` (§5, §6), both for the `read` role.
public enum AlertRoutes {
    /// Adds the alert endpoints to `router`.
    public static func add<Context: RequestContext>(to router: Router<Context>, hub: AlertHub, keepAlive: Duration) {
        // The active alerts, ordered by id, with the last seq they reflect: a client can open the
        // stream with `Last-Event-ID: <seq>` and miss nothing in between.
        router.get("/v1/alerts") { _, _ -> Response in
            let (alerts, seq) = hub.activeAlerts()
            var out = Array("{\"alerts\":[".utf8)
            for (i, a) in alerts.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: a.entry.line.last == 0x0A ? a.entry.line.dropLast() : a.entry.line[...])
            }
            out.append(contentsOf: "],\"seq\":\(seq)}\n".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
        }

        // Server-Sent Events: every event after `Last-Event-ID` (or `?after=N`) from the log, then
        // live ones; with neither, live ones only. A position before the oldest kept event gets
        // an `event: gap` first (reference §5).
        router.get("/v1/alerts/stream") { request, context -> Response in
            let text = request.headers[values: HTTPField.Name("Last-Event-ID")!].first ?? request.uri.queryParameters["after"].map(String.init)
            var after = hub.lastSeq
            if let text {
                guard let n = Int64(text.filter { $0 != " " }), n >= 0 else {
                    throw APIError(.badRequest, "bad_last_event_id", "Last-Event-ID and after must be an alert seq (a whole number ≥ 0)")
                }
                // An id from a newer life of the data folder than this one: start at its end.
                after = min(n, after)
            }
            let start = after
            // At most `alerts.max_sse_subscribers` streams at once: one more is told to come back.
            guard let slot = hub.reserveStream() else {
                var refused = try APIError(.serviceUnavailable, "too_many_subscribers",
                                           "\(hub.maxSubscribers) alert streams are open (alerts.max_sse_subscribers); retry later")
                    .response(from: request, context: context)
                refused.headers[.retryAfter] = "5"
                return refused
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                // The slot lives as long as this body: given back when the stream ends.
                defer { withExtendedLifetime(slot) {} }
                try await stream(hub: hub, after: start, keepAlive: keepAlive, writer: &writer)
            })
        }
    }

    /// Writes events after `after` until the hub closes or the client goes away (a write fails).
    static func stream(hub: AlertHub, after: Int64, keepAlive: Duration, writer: inout any ResponseBodyWriter) async throws {
        // Subscribe before reading, so an event published meanwhile wakes us: no gap.
        let subscription = hub.subscribe()
        hub.metrics.subscriberDelta(1)
        let ticker = subscription.ticking(every: keepAlive)
        defer {
            ticker.cancel()
            hub.unsubscribe(subscription)
            hub.metrics.subscriberDelta(-1)
        }
        var cursor = after
        let clock = ContinuousClock()
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        var lastWrite = clock.now
        var wakes = subscription.wakes.makeAsyncIterator()
        while true {
            while true {
                let batch = try hub.entries(after: cursor, limit: 4096)
                guard let last = batch.last else { break }
                var buffer = ByteBuffer()
                if let first = AlertHub.gap(in: batch, after: cursor) {
                    // Retention removed events after the client's position: say so, with the
                    // first kept seq, then send what is kept.
                    buffer.writeString("id: \(first - 1)\nevent: gap\ndata: {\"after\":\(cursor),\"first_seq\":\(first)}\n\n")
                }
                for e in batch where e.seq > cursor {
                    buffer.writeString("id: \(e.seq)\nevent: alert\ndata: ")
                    buffer.writeBytes(e.line.last == 0x0A ? e.line.dropLast() : e.line[...])
                    buffer.writeString("\n\n")
                }
                try await writer.write(buffer)
                cursor = last.seq
                lastWrite = clock.now
            }
            guard let wake = await wakes.next() else { break }
            if case .tick = wake, clock.now - lastWrite >= keepAlive * 0.5 {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = clock.now
            }
        }
        try await writer.finish(nil)
    }
}
