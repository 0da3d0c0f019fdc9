/// How a head-end system delivers a fleet's readings (`--profile realistic`): meters belong to
/// data concentrators, each serving 32–256 meters drawn from anywhere in the registry; a
/// concentrator forwards its meters' readings one after the other (20 a second) some time after
/// they were taken, and concentrators run on their own schedules, so the stream interleaves them
/// and the meter order bears no relation to the registry. Each concentrator speaks one timestamp
/// spelling (its head-end feed's): `+08:00` mostly, some `Z`, some Unix seconds.
///
/// Fixed for a fleet size, seed and interval: the same options give the same bytes.
struct Collectors {
    /// Meter indexes concentrator by concentrator, each concentrator's meters in the order it reads
    /// them: the order records are generated in (arrival ties keep it).
    let order: [Int32]
    /// Seconds from a meter's reading to its arrival: its concentrator's delay plus its place in
    /// the concentrator's round.
    let delay: [Int32]
    /// Timestamp spelling per meter (``LineWriter/Style`` raw value), its concentrator's.
    let style: [UInt8]
    /// Number of concentrators.
    let count: Int

    /// The longest delay for `intervalSeconds`: a concentrator forwards within two thirds of an
    /// interval, and never later than 10 minutes, plus its longest round (256 meters at 20 a second).
    static func maxDelay(intervalSeconds: Int) -> Int {
        min(600, intervalSeconds * 2 / 3) + 256 / 20
    }

    init(meters: Int, seed: UInt64, intervalSeconds: Int, mixedStyles: Bool) {
        var rng = SimRandom(seed: seed ^ 0x636F_6C6C_6563_7421)  // "collect!"
        var perm = (0..<meters).map { Int32($0) }
        if meters > 1 {
            for i in stride(from: meters - 1, to: 0, by: -1) { perm.swapAt(i, rng.below(i + 1)) }
        }
        var delay = [Int32](repeating: 0, count: meters)
        var style = [UInt8](repeating: 0, count: meters)
        // A concentrator forwards 5 s at the earliest.
        let spread = max(1, min(600, intervalSeconds * 2 / 3) - 5)
        var start = 0, n = 0
        while start < meters {
            let size = min(meters - start, 32 + rng.below(225))
            let base = 5 + rng.below(spread)
            let x = rng.below(100)
            let s: UInt8 = !mixedStyles || x < 70 ? 0 : x < 85 ? LineWriter.Style.utc.rawValue : LineWriter.Style.unix.rawValue
            for k in 0..<size {
                let m = Int(perm[start + k])
                delay[m] = Int32(base + k / 20)
                style[m] = s
            }
            start += size
            n += 1
        }
        order = perm
        self.delay = delay
        self.style = style
        count = n
    }
}
