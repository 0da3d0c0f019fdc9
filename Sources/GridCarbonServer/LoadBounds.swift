import GridCarbonIO
import GridCarbonModel

/// How much load the daemon takes before it slows or refuses producers (reference §6): HTTP
/// requests handled at once, bytes of lines queued for the engine (TCP and HTTP together), and
/// how long a slow HTTP client may hold a request.
public struct LoadBounds: Sendable, Equatable {
    /// HTTP requests handled at once; beyond it, 503 `overloaded` with `Retry-After: 1`.
    public var maxHTTPRequests = 64
    /// Bytes of lines handed to the engine and not yet applied beyond which producers wait: TCP
    /// connections stop reading, HTTP requests wait before their next batch.
    public var engineQueueBytes = 64 * 1024 * 1024
    /// A request head must arrive within this long, an idle connection is closed after it, and a
    /// body gets this long plus one second per ``minBodyBytesPerSecond`` received (time the daemon
    /// spends storing earlier parts does not count).
    public var httpIdleTimeout: Micros = 30 * Time.microsPerSecond
    /// The slowest average body rate taken once the allowance is used up.
    public static let minBodyBytesPerSecond = 16 * 1024

    public init() {}

    /// Reads `max_http_requests`, `engine_queue_bytes` and `http_idle_timeout`.
    /// - Throws: ``ConfigurationError`` for a value that is not a number or out of range.
    public init(file: ConfigFile) throws(ConfigurationError) {
        self.init()
        if let v = try ServeConfiguration.fileText(file, .maxHTTPRequests) {
            maxHTTPRequests = try Self.integer(v, "max_http_requests", 1...100_000)
        }
        if let v = try ServeConfiguration.fileText(file, .engineQueueBytes) {
            engineQueueBytes = try Self.integer(v, "engine_queue_bytes", 64 * 1024...(1 << 40))
        }
        if let v = try ServeConfiguration.fileText(file, .httpIdleTimeout) {
            guard let d = DurationFormat.parse(v), d >= 100_000, d <= 24 * Time.microsPerHour else {
                throw ConfigurationError(.badValue, message: "http_idle_timeout '\(v)' must be a duration from 100ms to 24h (30s)")
            }
            httpIdleTimeout = d
        }
    }

    static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let v = Int(text), range.contains(v) else {
            throw ConfigurationError(.badValue, message: "\(name) '\(text)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }
}
