import GridCarbonIO
import GridCarbonModel

/// The clocks the host reads: wall time (receipt times, the idle watermark, `max_future`) and a
/// monotonic clock (latencies). Injected, so that a simulation drives time itself.
public struct HostClock: Sendable {
    /// Wall time, microseconds since the Unix epoch.
    public var now: @Sendable () -> Micros
    /// Seconds on a clock that never goes back.
    public var monotonic: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Micros, monotonic: @escaping @Sendable () -> Double) {
        self.now = now
        self.monotonic = monotonic
    }

    /// The machine's clocks.
    public static let system = HostClock(now: { Clock.now() }, monotonic: { Clock.monotonic() })
}
