import GridCarbonModel

/// Sums of one open window, per profile, plus the set of meters already counted in it.
///
/// A plain value over raw memory (no reference counting on the per-span path); the engine owns
/// its lifetime and calls ``release()`` when it drops one.
struct WindowAccumulator {
    let lengthIndex: Int
    /// Window index: `floor((start + zone offset) / length)`.
    var index: Int64
    let profileCount: Int
    /// Exact sums (``ExactSum`` units): energy, emissions, and energy whose factor came from rules 1–2.
    let energy: UnsafeMutablePointer<Int128>
    let co2: UnsafeMutablePointer<Int128>
    let realtime: UnsafeMutablePointer<Int128>
    let spans: UnsafeMutablePointer<Int32>
    let meters: UnsafeMutablePointer<Int32>
    /// One bit per meter: counted in this window already.
    let seen: UnsafeMutablePointer<UInt64>
    let seenWords: Int

    init(lengthIndex: Int, index: Int64, profiles: Int, meters meterCount: Int) {
        self.lengthIndex = lengthIndex
        self.index = index
        profileCount = profiles
        let p = max(profiles, 1)
        energy = .allocate(capacity: p)
        co2 = .allocate(capacity: p)
        realtime = .allocate(capacity: p)
        spans = .allocate(capacity: p)
        meters = .allocate(capacity: p)
        seenWords = max(1, (meterCount + 63) / 64)
        seen = .allocate(capacity: seenWords)
        reset(index: index)
    }

    /// Clears the sums for reuse as window `index`.
    mutating func reset(index: Int64) {
        self.index = index
        let p = max(profileCount, 1)
        energy.initialize(repeating: 0, count: p)
        co2.initialize(repeating: 0, count: p)
        realtime.initialize(repeating: 0, count: p)
        spans.initialize(repeating: 0, count: p)
        meters.initialize(repeating: 0, count: p)
        seen.initialize(repeating: 0, count: seenWords)
    }

    /// Counts a span of meter `m` (profile `p`) overlapping this window.
    @inline(__always)
    func count(meter m: Int, profile p: Int) {
        spans[p] &+= 1
        let w = m >> 6, bit = UInt64(1) << UInt64(m & 63)
        if seen[w] & bit == 0 {
            seen[w] |= bit
            meters[p] &+= 1
        }
    }

    func release() {
        energy.deallocate(); co2.deallocate(); realtime.deallocate()
        spans.deallocate(); meters.deallocate(); seen.deallocate()
    }
}
