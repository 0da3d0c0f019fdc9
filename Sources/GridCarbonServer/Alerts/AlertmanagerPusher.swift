import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel
import Logging

/// Pushes alerts to Prometheus Alertmanager (`POST <url>/api/v2/alerts`, §5): each new event as it
/// is logged (a resolution with its `endsAt`), and every active alert again every `resend`, since
/// Alertmanager expires alerts it stops hearing about. Failed pushes are retried with backoff. Its
/// place in the alert log is kept in `<alerts>/alertmanager-<name>.cursor`, so events logged while
/// it could not push (a resolution just before a crash, Alertmanager down) are pushed after a
/// restart; at start every active alert is pushed too.
///
/// An alert: labels `alertname` (the rule), `severity`, `level`, `key`, `gridcarbon_id`, `kind`;
/// annotations `summary` (the message), `value`, `threshold`; `startsAt` the event's `starts_at`;
/// resolved events carry `endsAt`: their `ends_at`, or the wall clock if that is still ahead of it
/// (event time may run ahead of Alertmanager's clock, which would keep the alert firing).
///
/// `severity` is a label, so Alertmanager sees an alert whose severity changed as a new alert:
/// the pusher remembers the severity it last sent per id and resolves the old one explicitly
/// (after a restart, an old one left behind expires by Alertmanager's `resolve_timeout`).
final class AlertmanagerPusher: Sendable {
    let endpoint: String
    let hub: AlertHub
    let poster: AlertPoster
    let configuration: AlertDeliveryConfiguration
    let logger: Logger
    let zone: Zone
    let target = "alertmanager"
    let cursorFile: DeliveryCursor

    init(url: String, hub: AlertHub, poster: AlertPoster, configuration: AlertDeliveryConfiguration, zone: Zone, logger: Logger) {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        endpoint = base + "/api/v2/alerts"
        self.hub = hub
        self.poster = poster
        self.configuration = configuration
        self.zone = zone
        self.logger = logger
        cursorFile = DeliveryCursor(kind: "alertmanager", url: url, hub: hub, logger: logger)
    }

    /// Pushes until the hub closes or the task is cancelled.
    func run() async {
        let subscription = hub.subscribe()
        let ticker = subscription.ticking(every: configuration.alertmanagerResend)
        defer {
            ticker.cancel()
            hub.unsubscribe(subscription)
        }
        var cursor = cursorFile.start(lastSeq: hub.lastSeq)
        var resendDue = true
        let clock = ContinuousClock()
        var lastResend = clock.now
        var wakes = subscription.wakes.makeAsyncIterator()
        var sent: [String: String] = [:]
        while !Task.isCancelled {
            // New events first (a resolution is never hidden by a resend of an older snapshot).
            let batch = (try? hub.entries(after: cursor, limit: 256)) ?? []
            let kept = hub.skipPruned(batch, cursor: cursor, target: target)
            if kept != cursor {
                cursor = kept
                cursorFile.save(cursor)
            }
            hub.metrics.lag(target: target, events: hub.lastSeq - cursor)
            if let last = batch.last {
                guard await push(batch.compactMap { AlertRecord.parse($0.line) }, sent: &sent) else { return }
                cursor = last.seq
                cursorFile.save(cursor)
                continue
            }
            if resendDue {
                let active = hub.activeAlerts().alerts.map(\.record)
                if !active.isEmpty { guard await push(active, sent: &sent) else { return } }
                resendDue = false
                lastResend = clock.now
            }
            guard let wake = await wakes.next() else { return }
            if case .tick = wake, clock.now - lastResend >= configuration.alertmanagerResend * 0.5 { resendDue = true }
        }
    }

    /// What to send for `records` (the newest event per alert id), given the severity last sent
    /// per id: an alert whose severity changed is also resolved under its old severity.
    static func plan(_ records: [AlertRecord], sent: inout [String: String]) -> [AlertRecord] {
        var out: [AlertRecord] = []
        // One entry per Alertmanager alert (id and severity), the newest.
        func add(_ r: AlertRecord) {
            out.removeAll { $0.id == r.id && $0.severity == r.severity }
            out.append(r)
        }
        for r in records {
            if let old = sent[r.id], old != r.severity {
                var gone = r
                gone.severity = old
                gone.state = "resolved"
                gone.endsAt = nil
                add(gone)
            }
            sent[r.id] = r.resolved ? nil : r.severity
            add(r)
        }
        return out
    }

    /// POSTs the records until Alertmanager takes them; false when cancelled first.
    func push(_ records: [AlertRecord], sent: inout [String: String]) async -> Bool {
        let chosen = Self.plan(records, sent: &sent)
        guard !chosen.isEmpty else { return true }
        var backoff = Backoff(initial: configuration.retryInitial, max: configuration.retryMax)
        while !Task.isCancelled {
            switch await poster.post(endpoint, json: body(chosen, now: Clock.now())) {
            case .delivered:
                return true
            case .refused(let code):
                hub.metrics.deliveryFailed(target: target)
                logger.error("Alertmanager refused alerts; skipped", metadata: ["status": "\(code)", "alerts": "\(chosen.count)"])
                return true
            case .retry(let reason):
                hub.metrics.deliveryFailed(target: target)
                let wait = backoff.next()
                if backoff.attempt == 1 || backoff.attempt % 10 == 0 {
                    logger.warning("Alertmanager push failed; retrying", metadata: ["url": "\(endpoint)", "reason": "\(reason)", "attempt": "\(backoff.attempt)"])
                }
                do { try await Task.sleep(for: wait) } catch { return false }
            }
        }
        return false
    }

    /// The JSON array Alertmanager's API v2 takes (`postableAlerts`).
    func body(_ records: [AlertRecord], now: Micros) -> [UInt8] {
        let tf = TimeFormatter(zone: zone)
        func time(_ t: Micros, _ out: inout [UInt8]) { out.append(0x22); tf.append(t, to: &out); out.append(0x22) }
        func micros(_ s: String) -> Micros? { Array(s.utf8).withUnsafeBytes { ByteParsing.timestamp($0) } }
        func pair(_ k: String, _ v: String, _ out: inout [UInt8], comma: Bool = true) {
            JSONBytes.appendKey(k, to: &out); JSONBytes.appendString(v, to: &out)
            if comma { out.append(0x2C) }
        }
        func number(_ v: Double?) -> String {
            guard let v, v.isFinite else { return "" }
            var b: [UInt8] = []
            NumberFormat.append(v, to: &b)
            return String(decoding: b, as: UTF8.self)
        }
        var out: [UInt8] = [0x5B]
        for (i, r) in records.enumerated() {
            if i > 0 { out.append(0x2C) }
            out.append(contentsOf: "{\"labels\":{".utf8)
            pair("alertname", r.rule, &out); pair("severity", r.severity, &out); pair("level", r.level, &out)
            pair("key", r.key, &out); pair("gridcarbon_id", r.id, &out); pair("kind", r.kind, &out, comma: false)
            out.append(contentsOf: "},\"annotations\":{".utf8)
            pair("summary", r.message, &out); pair("value", number(r.value), &out); pair("threshold", number(r.threshold), &out, comma: false)
            out.append(contentsOf: "},\"startsAt\":".utf8)
            var starts = micros(r.startsAt) ?? now
            if r.resolved {
                let ends = min(r.endsAt.flatMap(micros) ?? now, now)
                starts = min(starts, ends)
                time(starts, &out)
                out.append(contentsOf: ",\"endsAt\":".utf8)
                time(ends, &out)
            } else {
                time(starts, &out)
            }
            out.append(0x7D)
        }
        out.append(0x5D)
        return out
    }
}
