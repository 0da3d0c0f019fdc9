import AsyncHTTPClient
import GridCarbonModel
import Logging
import ServiceLifecycle

/// Runs the alert deliverers (webhooks, Alertmanager) and the alert log's retention (every
/// minute) under the daemon's service group. On
/// graceful shutdown it closes the hub's subscriptions first, so open Server-Sent Events streams
/// end and the HTTP server can drain; undelivered webhook events stay in the log for the next start.
public struct AlertService: Service {
    let hub: AlertHub
    let configuration: AlertDeliveryConfiguration
    let zone: Zone
    let logger: Logger
    let webhooks: [WebhookDeliverer]
    let alertmanager: AlertmanagerPusher?

    /// A service delivering `hub`'s events as `configuration` says.
    public init(hub: AlertHub, configuration: AlertDeliveryConfiguration, zone: Zone, logger: Logger) {
        self.hub = hub
        self.configuration = configuration
        self.zone = zone
        self.logger = logger
        // Deliverers are made here, before the daemon takes input: a new webhook's cursor starts
        // at the log's end as it is now, so no live event slips past it.
        let poster = AlertPoster(client: HTTPClient.shared, token: configuration.webhookToken, timeout: configuration.requestTimeout)
        let plain = AlertPoster(client: HTTPClient.shared, token: nil, timeout: configuration.requestTimeout)
        webhooks = configuration.webhooks.map { WebhookDeliverer(url: $0, hub: hub, poster: poster, configuration: configuration, logger: logger) }
        alertmanager = configuration.alertmanagerURL.map {
            AlertmanagerPusher(url: $0, hub: hub, poster: plain, configuration: configuration, zone: zone, logger: logger)
        }
    }

    public func run() async throws {
        let webhooks = self.webhooks, alertmanager = self.alertmanager
        await withTaskGroup(of: Void.self) { group in
            for w in webhooks { group.addTask { await w.run() } }
            if let alertmanager { group.addTask { await alertmanager.run() } }
            // The alert log's age limit applies while no events are logged too.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(60))
                    if !Task.isCancelled { hub.pruneLog() }
                }
            }
            // Until shutdown (or cancellation), then stop every subscriber.
            try? await gracefulShutdown()
            hub.closeSubscribers()
            group.cancelAll()
        }
    }
}
