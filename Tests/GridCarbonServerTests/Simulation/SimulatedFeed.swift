import GridCarbonModel

/// A small, seeded feed for the host simulation: a registry of meters across provinces and a
/// day of their readings in batches, as collectors send them — out of order within the reorder
/// window, with duplicates, conflicting resends, bad lines, interval records, real-time factors,
/// and an outage during which only the wall clock moves the watermark.
struct SimulatedFeed {
    enum Step {
        /// Lines at wall time `at`.
        case batch(lines: [UInt8], at: Micros)
        /// Wall time `at` with no data: the host's idle clock may move the watermark.
        case idle(at: Micros)

        /// The step's wall time.
        var at: Micros {
            switch self {
            case .batch(_, let at), .idle(let at): at
            }
        }
    }

    let registryCSV: [UInt8]
    let steps: [Step]

    /// 2025-11-20T00:00:00+08:00.
    static let dayStart: Micros = 1_763_568_000 * Time.microsPerSecond

    init(seed: UInt64, meters: Int = 24, intervals: Int = 60) {
        var rng = SimRandom(seed: seed)
        let provinces = ["CN-GD", "CN-JS", "CN-SC", "CN-BJ", "CN-XZ", "CN-NM"]
        var registry = "meter_id,region,city,park,enterprise,industry,max_kw\n"
        for m in 0..<meters {
            let p = provinces[m % provinces.count]
            registry += "M\(m),\(p),\(p)-C\(m % 3),\(m % 4 == 0 ? "P\(m % 5)" : ""),E\(m % 7),\(["C", "D", "I", "3011"][m % 4]),\(m % 5 == 0 ? "50" : "")\n"
        }
        registryCSV = Array(registry.utf8)

        let q: Micros = 15 * 60 * Time.microsPerSecond
        var value = (0..<meters).map { _ in Double(rng.below(1000)) }
        var steps: [Step] = []
        var k = 0
        while k < intervals {
            // An outage: no data for two hours of wall time, then the feed resumes.
            if k > 0 && k % 23 == 0 {
                steps.append(.idle(at: Self.dayStart + Micros(k) * q + 2 * 60 * 60 * Time.microsPerSecond))
                k += 9
                continue
            }
            let t = Self.dayStart + Micros(k) * q
            var lines: [String] = []
            for m in 0..<meters {
                value[m] += Double(rng.below(4000)) / 100
                if m % 11 == 3 {
                    // Interval energy instead of a register.
                    lines.append("i,M\(m),\(t / Time.microsPerSecond),\((t + q) / Time.microsPerSecond),\(Double(rng.below(900)) / 100)")
                } else {
                    let jitter = Micros(rng.below(40)) * Time.microsPerSecond
                    lines.append("r,M\(m),\((t + jitter) / Time.microsPerSecond),\(value[m])")
                }
                if rng.below(40) == 0 { lines.append(lines[lines.count - 1]) }   // a resend
            }
            if rng.below(5) == 0 { lines.append("f,CN-GD,\(t / Time.microsPerSecond),\((t + q) / Time.microsPerSecond),0.\(400 + rng.below(200))") }
            if rng.below(4) == 0 { lines.append("r,M\(rng.below(meters)),not-a-time,1") }
            if rng.below(6) == 0 { lines.append("r,NOPE\(rng.below(9)),\(t / Time.microsPerSecond),1") }
            // Collector order: shuffled, then cut into one to three batches.
            for i in stride(from: lines.count - 1, to: 0, by: -1) { lines.swapAt(i, rng.below(i + 1)) }
            var cuts = [0, lines.count]
            for _ in 0..<rng.below(3) { cuts.append(rng.below(lines.count)) }
            cuts.sort()
            for (a, b) in zip(cuts, cuts.dropFirst()) where b > a {
                let at = t + q + Micros(rng.below(60)) * Time.microsPerSecond
                steps.append(.batch(lines: Array((lines[a..<b].joined(separator: "\n") + "\n").utf8), at: at))
            }
            k += 1
        }
        // A day later: every window the data touched has closed.
        steps.append(.idle(at: Self.dayStart + Micros(intervals + 96) * q))
        self.steps = steps
    }
}

/// SplitMix64: a small seeded generator, so a failing seed replays exactly.
struct SimRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in `0..<n`.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
