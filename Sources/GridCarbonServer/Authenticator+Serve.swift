extension Authenticator {
    /// The tokens `serve` works with (§6): those of `tokensPath`, required; none needed on
    /// loopback without a file; off loopback without one, a ``ServeError`` `.tokensRequired`.
    static func forServe(_ configuration: ServeConfiguration, tokensPath: String?) throws -> Authenticator {
        let offLoopback = !Daemon.isLoopback(configuration.tcpHost) || !Daemon.isLoopback(configuration.httpHost)
        if let tokensPath {
            return try Authenticator.load(path: tokensPath, required: true)
        } else if offLoopback {
            throw ServeError(.tokensRequired, "listening off loopback needs bearer tokens: give --tokens FILE (lines 'ROLE[,ROLE] TOKEN', roles ingest, read, admin)")
        }
        return Authenticator(required: false, tokens: [:])
    }
}
