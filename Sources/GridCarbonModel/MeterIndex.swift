/// The registry's id → meter index table frozen into raw memory, so the per-record lookup is a
/// hash and usually one `memcmp`, with no reference counting.
public final class MeterIndex: @unchecked Sendable {
    @usableFromInline let slots: UnsafeMutablePointer<Int32>
    @usableFromInline let offsets: UnsafeMutablePointer<Int32>
    @usableFromInline let bytes: UnsafeMutablePointer<UInt8>
    @usableFromInline let mask: Int
    /// Number of meters, retired ones included.
    public let count: Int
    /// Meters `0..<findable` are in the lookup table; the rest are retired.
    public let findable: Int
    /// Per meter: region index, profile index, max_kw.
    public let region: UnsafeMutablePointer<UInt8>
    public let profile: UnsafeMutablePointer<Int32>
    public let maxKW: UnsafeMutablePointer<Double>

    /// Allocates the storage; ``Registry`` fills it.
    init(count: Int, findable: Int, slotCount: Int, byteCount: Int) {
        self.count = count
        self.findable = findable
        let n = max(count, 1)
        region = .allocate(capacity: n)
        profile = .allocate(capacity: n)
        maxKW = .allocate(capacity: n)
        slots = .allocate(capacity: slotCount)
        offsets = .allocate(capacity: count + 1)
        bytes = .allocate(capacity: max(byteCount, 1))
        mask = slotCount - 1
    }

    deinit {
        slots.deallocate(); offsets.deallocate(); bytes.deallocate()
        region.deallocate(); profile.deallocate(); maxKW.deallocate()
    }

    /// Compares `b.count` bytes, eight at a time (ids are short; a libc call costs more than this).
    @inlinable @inline(__always)
    static func equal(_ a: UnsafeMutablePointer<UInt8>, _ b: UnsafeRawBufferPointer) -> Bool {
        let n = b.count
        let ra = UnsafeRawPointer(a)
        var i = 0
        while i + 8 <= n {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Looks up `id`, trying meter `after + 1` first: feeds tend to send meters in registry order,
    /// and a sequential compare is cheaper than a hash probe that misses the cache.
    @inlinable
    public func lookup(_ id: UnsafeRawBufferPointer, after: Int) -> Int? {
        let next = after &+ 1
        if next >= 0 && next < findable {
            let lo = Int(offsets[next]), hi = Int(offsets[next + 1])
            if hi - lo == id.count && Self.equal(bytes + lo, id) { return next }
        }
        return lookup(id)
    }

    @inlinable
    public func lookup(_ id: UnsafeRawBufferPointer) -> Int? {
        var s = Registry.hash(id) & mask
        while true {
            let v = Int(slots[s])
            if v == 0 { return nil }
            let lo = Int(offsets[v - 1]), hi = Int(offsets[v])
            if hi - lo == id.count && Self.equal(bytes + lo, id) { return v - 1 }
            s = (s + 1) & mask
        }
    }
}
