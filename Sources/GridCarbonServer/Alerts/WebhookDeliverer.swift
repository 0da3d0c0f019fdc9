import GridCarbonIO
import Logging

/// Delivers alert events to one webhook (§5): each event's JSON line is POSTed
/// (`Content-Type: application/json`), strictly in `seq` order, at least once.
///
/// The outbox is the alert log itself plus a cursor file, `<alerts>/webhook-<name>.cursor`, holding
/// the last `seq` the receiver accepted (2xx); it is replaced atomically after each delivery, so a
/// restart resumes after it. While the receiver is down the same event is retried with
/// exponential backoff; a 4xx refusal other than 408/429 is logged and skipped (repeating it
/// would block every later event). A webhook seen for the first time starts at the end of the log.
/// Events that retention removed from the log before they were delivered are skipped, logged and
/// counted (`gridcarbon_alert_delivery_skipped_events_total`, reference §5).
final class WebhookDeliverer: Sendable {
    let url: String
    let hub: AlertHub
    let poster: AlertPoster
    let configuration: AlertDeliveryConfiguration
    let logger: Logger
    /// The cursor file.
    let cursor: DeliveryCursor
    /// The metrics label: `webhook:<host:port>`.
    let target: String

    init(url: String, hub: AlertHub, poster: AlertPoster, configuration: AlertDeliveryConfiguration, logger: Logger) {
        self.url = url
        self.hub = hub
        self.poster = poster
        self.configuration = configuration
        self.logger = logger
        cursor = DeliveryCursor(kind: "webhook", url: url, hub: hub, logger: logger)
        target = "webhook:" + Self.hostPort(url)
    }

    /// `webhook-<name>.cursor` (``DeliveryCursor/fileName(kind:url:)``).
    static func cursorName(_ url: String) -> String { DeliveryCursor.fileName(kind: "webhook", url: url) }

    static func hostPort(_ url: String) -> String {
        var rest = Substring(url)
        if let r = rest.firstRange(of: "://") { rest = rest[r.upperBound...] }
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(rest)
    }

    /// Delivers until the hub closes or the task is cancelled.
    func run() async {
        let subscription = hub.subscribe()
        defer { hub.unsubscribe(subscription) }
        var cursor = self.cursor.start(lastSeq: hub.lastSeq)
        logger.info("webhook delivery", metadata: ["target": "\(target)", "after": "\(cursor)"])
        var wakes = subscription.wakes.makeAsyncIterator()
        while !Task.isCancelled {
            let batch: [AlertLogEntry]
            do { batch = try hub.entries(after: cursor, limit: 1024) } catch {
                logger.error("alert log unreadable for webhook delivery", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: configuration.retryMax)
                continue
            }
            let kept = hub.skipPruned(batch, cursor: cursor, target: target)
            if kept != cursor {
                cursor = kept
                self.cursor.save(cursor)
            }
            hub.metrics.lag(target: target, events: hub.lastSeq - cursor)
            if batch.isEmpty {
                guard await wakes.next() != nil else { return }
                continue
            }
            for entry in batch where entry.seq > cursor {
                guard await deliver(entry) else { return }
                cursor = entry.seq
                self.cursor.save(cursor)
                hub.metrics.lag(target: target, events: hub.lastSeq - cursor)
            }
        }
    }

    /// POSTs one event until it is accepted or refused; false when cancelled first.
    func deliver(_ entry: AlertLogEntry) async -> Bool {
        var backoff = Backoff(initial: configuration.retryInitial, max: configuration.retryMax)
        let body = entry.line.last == 0x0A ? Array(entry.line.dropLast()) : entry.line
        while !Task.isCancelled {
            switch await poster.post(url, json: body) {
            case .delivered:
                return true
            case .refused(let code):
                hub.metrics.deliveryFailed(target: target)
                logger.error("webhook refused an alert event; skipped", metadata: ["target": "\(target)", "seq": "\(entry.seq)", "status": "\(code)"])
                return true
            case .retry(let reason):
                hub.metrics.deliveryFailed(target: target)
                let wait = backoff.next()
                if backoff.attempt == 1 || backoff.attempt % 10 == 0 {
                    logger.warning("webhook delivery failed; retrying", metadata: ["target": "\(target)", "seq": "\(entry.seq)", "reason": "\(reason)", "attempt": "\(backoff.attempt)"])
                }
                do { try await Task.sleep(for: wait) } catch { return false }
            }
        }
        return false
    }
}
