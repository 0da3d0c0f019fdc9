import GridCarbonIO
import GridCarbonModel

extension ServeConfiguration {
    /// The daemon's settings from the configuration file, each overridden by its flag in `flags`
    /// (keyed by ``ConfigKey``): folders, table files, addresses, the write-ahead log, limits and
    /// alert delivery. The engine settings and alert rules are read by their own sections
    /// (`EngineSettings(file:flags:)`, ``ConfigFile/alertSettings(engine:budgetsOverride:)``).
    /// - Throws: ``ConfigurationError`` naming the setting that cannot be used.
    public init(file: ConfigFile, flags: [ConfigKey: String] = [:], webhooks: [String] = []) throws(ConfigurationError) {
        self.init()
        func given(_ key: ConfigKey) -> String? { flags[key] ?? file.string(key) }
        registryPath = given(.registry)
        factorsPath = given(.factors)
        sourceFactorsPath = given(.sourceFactors)
        sourceBasis = file.value(.sourceBasis, flag: flags[.sourceBasis]) ?? sourceBasis
        dataDirectory = file.value(.data, flag: flags[.data]) ?? dataDirectory
        (tcpHost, tcpPort) = try Self.address(file.value(.tcp, flag: flags[.tcp]) ?? "", "tcp")
        (httpHost, httpPort) = try Self.address(file.value(.http, flag: flags[.http]) ?? "", "http")
        let policy = file.value(.fsync, flag: flags[.fsync]) ?? "batch"
        switch policy {
        case "batch": fsync = .batch
        case "never": fsync = .never
        default:
            guard policy.hasPrefix("interval:"), let d = DurationFormat.parse(String(policy.dropFirst(9))), d > 0 else {
                throw ConfigurationError(.badValue, message: "fsync '\(policy)' must be batch, never or interval:DURATION (interval:10ms)")
            }
            fsync = .interval(d)
        }
        alertDelivery = try AlertDeliveryConfiguration(file: file, webhooks: webhooks, alertmanager: flags[.alertmanagerURL])
        try readLimits(file: file, flags: flags)
        load = try LoadBounds(file: file)
    }

    /// `HOST:PORT` (`[::1]:8080`; an empty host is 127.0.0.1).
    static func address(_ text: String, _ name: String) throws(ConfigurationError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(.badValue, message: "\(name) '\(text)' must be HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
