import GridCarbonIO

/// How alert events leave the daemon (§5): Server-Sent Events, webhooks, Alertmanager.
/// Every setting has a default, so a daemon with no alert configuration still serves
/// `GET /v1/alerts` and `GET /v1/alerts/stream`.
public struct AlertDeliveryConfiguration: Sendable {
    /// Webhook URLs: each event is POSTed to each, in `seq` order, at least once.
    public var webhooks: [String] = []
    /// Bearer token sent to the webhooks (`Authorization: Bearer TOKEN`), if any.
    public var webhookToken: String?
    /// Alertmanager base URL (`http://127.0.0.1:9093`); nil: no push.
    public var alertmanagerURL: String?
    /// How often every active alert is sent to Alertmanager again, which expires alerts it
    /// stops hearing about.
    public var alertmanagerResend: Duration = .seconds(60)
    /// Interval of the `: keep-alive` comment lines on an idle Server-Sent Events stream.
    public var keepAlive: Duration = .seconds(15)
    /// Retry backoff for webhooks and Alertmanager: from `retryInitial`, doubling, at most
    /// `retryMax`, each wait jittered by up to ±20 %.
    public var retryInitial: Duration = .milliseconds(500)
    public var retryMax: Duration = .seconds(30)
    /// Timeout of one delivery request.
    public var requestTimeout: Duration = .seconds(10)
    /// Server-Sent Events streams open at once; one more is answered 503 `too_many_subscribers`.
    public var maxSubscribers: Int = 64
    /// Rotation and retention of the alert log.
    public var logRetention = AlertLogRetention()

    public init() {}
}
