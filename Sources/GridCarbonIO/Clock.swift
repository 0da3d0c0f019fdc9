import GridCarbonModel
#if canImport(Glibc)
import Glibc
#endif

/// Wall and monotonic clocks in microseconds.
public enum Clock {
    public static func now() -> Micros {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Whether standard error is a terminal (progress lines are drawn only there).
    public static var stderrIsTerminal: Bool { isatty(2) != 0 }
}
