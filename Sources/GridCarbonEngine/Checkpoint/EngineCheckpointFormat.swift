import GridCarbonModel

/// The checkpoint format.
///
/// Header, 32 bytes, little-endian:
/// ```
///  0  magic "GCENGCKP"
///  8  u32 format version (4: the `DUAL` section; 3: interval ends in `BASE`; 2: exact window sums;
///      1 held them as f64)
/// 12  u32 flags (0; bit 0 would mark a big-endian writer)
/// 16  u64 payload length
/// 24  u32 CRC-32 of bytes 0..<24 followed by the payload
/// 28  u32 reserved, 0
/// ```
/// The payload is a sequence of sections, each starting with a u64 tag (four ASCII letters), in
/// this order; integers are 64-bit unless said otherwise, arrays are raw host memory (little-endian
/// on every platform Swift runs this on; the flags refuse the other):
/// - `SETG`: zone offset (s), slot, window count + lengths, level count + level raw values (sorted),
///   reorder_window, span_horizon, max_gap, max_future.
/// - `REGY`: meter count, hash of the meter ids in order, profile count, hash of the profiles
///   (keys of each, meter → profile, key names; after a live reload also the live meter count and
///   the meter-level key names). The registry itself is not in the engine checkpoint: restore into
///   an engine built with the registry in force when it was taken (the daemon stores a
///   ``Registry/snapshot()`` next to it).
/// - `SCAL`: accepted, duplicate, rejected, late, watermark, maxEventTime, windowsClosed, closedBefore.
/// - `SRCS`: source name count, then per name its byte length and UTF-8 bytes.
/// - `BASE`: meter count, then baseline timestamps (i64 × meters) and values (f64 × meters), then
///   (version 3) the latest end of each meter's attributed intervals (i64 × meters, reference §3.1).
/// - `PEND`: item count, then per meter in index order its pending items in list order, 32 bytes
///   each: key i64, start i64, value f64, meter i32, kind u32 (0 register, 1 interval).
/// - `SLOT`: ring size, touched count, then per touched slot (ring order) its ring index and the
///   slot's per-meter energy cells (f64 × meters).
/// - `WIND`: window length count; per length the open accumulator count, per accumulator its index,
///   energy, co2, realtime (exact ``ExactSum`` units, i128 × profiles), spans, meters (i32 × profiles), seen bitset (u64 × words).
/// - `FACT`: region count; per region its real-time factors (count; start, end, value) and mix
///   records in arrival order (count; start, end, source, mwh).
/// - `TOTL`: day, month, year ids, profile count, then day, month and year (energy, co2) per profile.
/// - `DUAL` (version 4, reference §9.1): exchange count, per exchange from, to, start, end, mwh;
///   output count, per output level, key (string), start, end, value, unit (string); contract
///   count, per contract enterprise (string), start, end, mwh, instrument. Each in arrival order.
/// - `ALRT` (optional): byte length, then the alert evaluator's state by names (Alerts/State/).
/// - `SCLO` (scale-out engines only, §8): byte length, then the role, the last stream sequence
///   applied, a partition's unsent closed slots and windows, a merger's partition steps, pending
///   slot energies, buffered grid messages and grid sequence (ScaleOut/Engine+ScaleOutCheckpoint.swift).
/// - `END.`
///
/// Pool indices, bucket links and caches are not written: restore rebuilds the links and leaves the
/// caches cold, which changes no output.
public enum EngineCheckpointFormat {
    public static let magic: [UInt8] = Array("GCENGCKP".utf8)
    public static let version: UInt32 = 4
    /// The versions ``Engine/restore(from:)-([UInt8])`` reads: 2 lacks the interval ends, 3 the
    /// `DUAL` section (restored empty).
    public static let readable: ClosedRange<UInt32> = 2...4
    public static let headerSize = 32

    static func tag(_ s: StaticString) -> UInt64 {
        var v: UInt64 = 0
        let p = s.utf8Start
        for i in 0..<4 { v |= UInt64(p[i]) << (8 * UInt64(i)) }
        return v
    }
    static let settings = tag("SETG"), registry = tag("REGY"), scalars = tag("SCAL"), sources = tag("SRCS")
    static let baselines = tag("BASE"), pending = tag("PEND"), slots = tag("SLOT"), windows = tag("WIND")
    static let factors = tag("FACT"), totals = tag("TOTL"), alerts = tag("ALRT"), scaleOut = tag("SCLO"), end = tag("END.")
    static let dual = tag("DUAL")

    static func name(_ tag: UInt64) -> String {
        String(decoding: (0..<4).map { UInt8(truncatingIfNeeded: tag >> (8 * UInt64($0))) }, as: UTF8.self)
    }

    #if _endian(big)
    static let flags: UInt32 = 1
    #else
    static let flags: UInt32 = 0
    #endif
}
