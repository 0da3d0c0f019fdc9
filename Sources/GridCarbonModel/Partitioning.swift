/// Which partition a meter's records go to (reference §8): FNV-1a, 64 bits, over the bytes of the meter
/// id exactly as the record spells it (no trimming, no case folding), modulo the stream's partition
/// count `P`:
///
/// ```
/// h = 0xcbf29ce484222325                      // FNV offset basis
/// for each byte b of the id: h = (h ^ b) * 0x100000001b3   (mod 2^64)
/// partition = h mod P
/// ```
///
/// With `P = 4`: `M1` hashes to `0x09160b07b5ac93cb`, partition 3; `meter-000001` to
/// `0x50e56d6f007a2942`, partition 2. Devices that publish themselves (MQTT) compute the same;
/// `gridcarbon partition --partitions P METER...` prints it. `docs/scale-out.md` has the layout.
public enum Partitioning {
    /// FNV-1a 64-bit offset basis.
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// FNV-1a 64-bit prime.
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The FNV-1a 64-bit hash of `bytes`.
    @inlinable
    public static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = offsetBasis
        for b in bytes { h = (h ^ UInt64(b)) &* prime }
        return h
    }

    /// The partition, in `0..<count`, of the meter whose id is `meterID`.
    @inlinable
    public static func partition(meterID: UnsafeRawBufferPointer, count: Int) -> Int {
        precondition(count > 0, "a stream has at least one partition")
        return Int(fnv1a64(meterID) % UInt64(count))
    }

    /// The partition of the meter `meterID` (its UTF-8 bytes).
    public static func partition(meterID: String, count: Int) -> Int {
        var id = meterID
        return id.withUTF8 { partition(meterID: UnsafeRawBufferPointer($0), count: count) }
    }
}
