/// The hash of meter ids (and of whole registries, for checkpoint fingerprints): 64-bit FNV-1a
/// over eight-byte words, folded with a multiply.
public struct FoldHash: Sendable {
    public var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inlinable
    public init() {}

    @inlinable
    public mutating func add(_ p: UnsafeRawBufferPointer) {
        var h = value
        var i = 0
        let n = p.count
        while i + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01b3
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail ^ UInt64(n)) &* 0x9E37_79B9_7F4A_7C15
        value = h ^ (h >> 32)
    }

    /// Mixes in one 64-bit value.
    @inlinable
    public mutating func add(_ v: Int64) {
        value = (value ^ UInt64(bitPattern: v)) &* 0x100_0000_01b3
        value ^= value >> 29
    }
}
