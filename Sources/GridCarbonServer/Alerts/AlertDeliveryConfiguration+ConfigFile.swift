import GridCarbonIO
import GridCarbonModel

extension AlertDeliveryConfiguration {
    /// `alerts.webhooks`, `alerts.webhook_token`, `alerts.alertmanager.url|resend`,
    /// `alerts.keep_alive`, `alerts.max_sse_subscribers` and `alerts.log_*` of the configuration
    /// file; `webhooks` (the `--webhook` flags) add to the file's, `alertmanager` (the flag)
    /// replaces its URL.
    /// - Throws: ``ConfigurationError`` for a target that is not an http(s) URL, a bad duration or
    ///   a number out of range.
    public init(file: ConfigFile, webhooks: [String] = [], alertmanager: String? = nil) throws(ConfigurationError) {
        self.init()
        self.webhooks = (file.strings(.alertWebhooks) ?? []) + webhooks
        let alertmanagerURL = file.value(.alertmanagerURL, flag: alertmanager)
        for url in self.webhooks + [alertmanagerURL].compactMap({ $0 }) {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count > 8 else {
                throw ConfigurationError(.badValue, message: "alert target '\(url)' must be an http:// or https:// URL")
            }
        }
        webhookToken = file.string(.alertWebhookToken)
        self.alertmanagerURL = alertmanagerURL
        func duration(_ key: ConfigKey) throws(ConfigurationError) -> Duration? {
            guard let t = file.string(key) else { return nil }
            guard let d = DurationFormat.parse(t), d > 0 else {
                throw ConfigurationError(.badValue, message: "\(key.name) '\(t)' is not a duration such as 15s or 1m")
            }
            return .microseconds(d)
        }
        if let d = try duration(.alertmanagerResend) { alertmanagerResend = d }
        if let d = try duration(.alertKeepAlive) { keepAlive = d }
        if let n = try file.wholeNumber(.alertMaxSSESubscribers, in: 1...100_000) { maxSubscribers = Int(n) }
        logRetention = try file.alertLogRetention()
    }
}
