import GridCarbonEngine
import GridCarbonModel

/// Everything `gridcarbon serve` needs, with the specification's defaults: it starts with no
/// configuration at all, on loopback, with the embedded factor tables.
public struct ServeConfiguration: Sendable {
    /// Data folder (aggregates, side outputs, write-ahead log, checkpoints).
    public var dataDirectory = "./gridcarbon-data"
    /// Meter registry CSV; nil starts with an empty registry (every meter is then `unknown_meter`).
    public var registryPath: String?
    /// TCP line ingest address.
    public var tcpHost = "127.0.0.1"
    public var tcpPort = 7070
    /// HTTP API address.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// Engine settings.
    public var engine = EngineSettings()
    /// Factor table files (nil: the embedded tables), re-read on SIGHUP.
    public var factorsPath: String?
    public var sourceFactorsPath: String?
    public var sourceBasis = "direct"
    /// While no meter record arrives for this long (wall time), the watermark follows wall time.
    public var idleTimeout: Micros = 60 * Time.microsPerSecond
    /// Longest line accepted (TCP and HTTP), in bytes.
    public var maxLineBytes = 64 * 1024
    /// Largest HTTP request body, in bytes (after decompression as well).
    public var maxBodyBytes = 256 * 1024 * 1024
    /// How the write-ahead log is made durable.
    public var fsync: FsyncPolicy = .batch
    /// Write-ahead log segment size before it rolls over.
    public var walSegmentBytes = 64 * 1024 * 1024
    /// A checkpoint of the engine is written after this much log (and at shutdown); older log
    /// segments are then removed.
    public var checkpointBytes: Int64 = 256 * 1024 * 1024
    /// A TCP connection that sends nothing for this long is closed.
    public var readTimeout: Micros = 5 * Time.microsPerMinute
    /// TCP connections open at once; beyond, one error line and close.
    public var maxConnections = 1024
    /// How alert events reach subscribers: Server-Sent Events keep-alive, webhooks, Alertmanager.
    public var alertDelivery = AlertDeliveryConfiguration()
    /// Bounds on load: HTTP requests at once, bytes queued for the engine, slow HTTP clients.
    public var load = LoadBounds()

    /// Alert rules and budgets (§5).
    public var alerts = AlertSettings()
    /// The configuration file and budgets file, re-read on SIGHUP for the alert rules.
    public var configPath: String?
    public var budgetsPath: String?

    public init() {}
}

/// When the write-ahead log is fsynced.
public enum FsyncPolicy: Sendable, Equatable {
    /// Group commit: every acknowledgement waits for an fsync that covers it; concurrent writers share one.
    case batch
    /// At most every so many microseconds (acknowledgements wait for it).
    case interval(Micros)
    /// Never (acknowledged once written to the OS; for tests and throwaway runs).
    case never
}
