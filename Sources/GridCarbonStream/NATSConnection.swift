import CNats

/// A connection to NATS servers: one URL or a comma-separated list of a cluster's URLs
/// (`nats://10.0.0.1:4222,nats://10.0.0.2:4222`; `host:port` alone means `nats://host:port`).
///
/// libnats keeps the connection up by itself: when a server goes away it reconnects to another one
/// of the list (or one the cluster announced), resubscribes, and sends what was published in the
/// meantime. The settings below suit a cluster that may lose a node: reconnect without limit,
/// a quarter second between rounds, pings every few seconds so a silent server is noticed. Thread
/// safe (libnats locks); its calls block, so use it from threads of your own (``BlockingThread``).
public final class NATSConnection: @unchecked Sendable {
    /// Connection settings; the defaults suit a JetStream cluster.
    public struct Options: Sendable {
        /// The name the servers show for this client (`nats server report connections`).
        public var name = "gridcarbon"
        /// Time to establish a connection to one server.
        public var connectTimeoutMillis: Int64 = 2000
        /// Pause between two rounds of reconnect attempts over the server list.
        public var reconnectWaitMillis: Int64 = 250
        /// Reconnect attempts per server before it is dropped; -1 for no limit (the callers'
        /// own deadlines decide when to give up).
        public var maxReconnect: Int32 = -1
        /// Interval of client pings, and how many may go unanswered before the connection is
        /// considered broken.
        public var pingIntervalMillis: Int64 = 5000
        public var maxPingsOut: Int32 = 3

        public init() {}
    }

    let handle: OpaquePointer
    /// The URL list as given.
    public let urls: String

    /// Connects to the first server of `urls` that answers.
    /// - Throws: ``StreamError`` `.unreachable` when none does, or the list is malformed.
    public init(urls: String, options: Options = Options()) throws(StreamError) {
        self.urls = urls
        let list = Self.serverList(urls)
        guard !list.isEmpty else { throw StreamError(.unreachable, "no NATS server URL given") }
        var opts: OpaquePointer?
        try NATSStatus.check(natsOptions_Create(&opts), .unreachable, "cannot create NATS options")
        defer { natsOptions_Destroy(opts) }
        var s = withCStringArray(list) { natsOptions_SetServers(opts, $0, Int32(list.count)) }
        if s == NATS_OK { s = natsOptions_SetName(opts, options.name) }
        if s == NATS_OK { s = natsOptions_SetTimeout(opts, options.connectTimeoutMillis) }
        if s == NATS_OK { s = natsOptions_SetMaxReconnect(opts, options.maxReconnect) }
        if s == NATS_OK { s = natsOptions_SetReconnectWait(opts, options.reconnectWaitMillis) }
        if s == NATS_OK { s = natsOptions_SetPingInterval(opts, options.pingIntervalMillis) }
        if s == NATS_OK { s = natsOptions_SetMaxPingsOut(opts, options.maxPingsOut) }
        try NATSStatus.check(s, .unreachable, "\(urls): bad NATS URL list")
        var nc: OpaquePointer?
        try NATSStatus.check(natsConnection_Connect(&nc, opts), .unreachable, "cannot connect to NATS at \(urls)")
        handle = nc!
    }

    deinit {
        natsConnection_Close(handle)
        natsConnection_Destroy(handle)
    }

    /// Closes the connection (idempotent); pending subscriptions and calls end with `.closed`.
    public func close() {
        natsConnection_Close(handle)
    }

    /// Whether the connection is closed for good (not merely reconnecting).
    public var isClosed: Bool { natsConnection_IsClosed(handle) }

    /// The largest message payload the server accepts, in bytes.
    public var maxPayload: Int { Int(natsConnection_GetMaxPayload(handle)) }

    /// The URL of the server currently connected to, if any.
    public var connectedURL: String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard natsConnection_GetConnectedUrl(handle, &buffer, buffer.count) == NATS_OK else { return nil }
        let url = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return url.isEmpty ? nil : url
    }

    /// `a:4222, nats://b:4222` → `["nats://a:4222", "nats://b:4222"]`.
    static func serverList(_ urls: String) -> [String] {
        urls.split(separator: ",").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }.map {
            $0.contains("://") ? $0 : "nats://" + $0
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// Calls `body` with a C array of C strings for `strings`, valid during the call.
func withCStringArray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>) throws -> T) rethrows -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers = copies.map { UnsafePointer<CChar>($0) }
    return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
}

#if canImport(Glibc)
import Glibc
#endif
