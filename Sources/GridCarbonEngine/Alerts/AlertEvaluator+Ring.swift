import GridCarbonModel

/// The ring of each budget target's per-slot emissions over the longest forecast lookback, and the
/// trailing sums (in whole milligrams) that forecasts read from it.
extension AlertEvaluator {
    /// Slot `s` of every target into the ring (`values[t]` kg, nil for no emissions), with the
    /// trailing sums moved on by one slot: the new entry in, the one `lookbacks[j]` slots back out.
    func push(slot s: Int64, values: [Double]?) {
        let size = ringSize, nl = lookbacks.count, nt = targets.count
        let r = position(s)
        let leaving = lookbacks.map { position(s - Int64($0)) }
        ring.withUnsafeMutableBufferPointer { ring in
            ringSlot.withUnsafeMutableBufferPointer { ringSlot in
                trailing.withUnsafeMutableBufferPointer { trailing in
                    for t in 0..<nt {
                        let base = t * size
                        let v = values?[t] ?? 0
                        let vm = Self.milli(v)
                        // Read what leaves before writing: with the longest lookback it is this position.
                        for j in 0..<nl { trailing[t * nl + j] += vm - Self.milli(ring[base + leaving[j]]) }
                        ring[base + r] = v
                        ringSlot[base + r] = s
                    }
                }
            }
        }
        ringLast = s
    }

    /// Slots skipped since the last close held no energy anywhere: zeros in the ring, so that it
    /// always holds the last `ringSize` slots. A gap of the ring's length or more leaves only zeros.
    func fillGap(before s: Int64) {
        guard ringLast != .min, s - ringLast > 1 else { return }
        if s - ringLast - 1 < Int64(ringSize) {
            for k in (ringLast + 1)..<s { push(slot: k, values: nil) }
            return
        }
        for i in ring.indices { ring[i] = 0 }
        for i in trailing.indices { trailing[i] = 0 }
        for k in (s - Int64(ringSize))..<s {
            for t in 0..<targets.count { ringSlot[t * ringSize + position(k)] = k }
        }
        ringLast = s - 1
    }

    /// The trailing sums from the ring as it is (after a restore); equal to what ``push(slot:values:)``
    /// keeps, being sums of the same integers.
    func recomputeTrailing() {
        let nl = lookbacks.count
        trailing = Array(repeating: 0, count: targets.count * nl)
        guard ringLast != .min, ringSize > 0 else { return }
        for t in 0..<targets.count {
            for j in 0..<nl {
                var sum: Int64 = 0
                for k in 0..<lookbacks[j] { sum += Self.milli(ring[t * ringSize + position(ringLast - Int64(k))]) }
                trailing[t * nl + j] = sum
            }
        }
    }

    /// The emissions of `target` over the lookback `j` (``lookbacks``) up to the slot just closed.
    @inline(__always)
    func trailingSum(target t: Int, lookback j: Int) -> Double {
        Self.kg(milli: trailing[t * lookbacks.count + j])
    }

    /// Kilograms as whole milligrams, the unit of the trailing sums: integer sums come out the same
    /// whether kept slot by slot or recomputed, which floating point does not promise.
    @inline(__always)
    static func milli(_ kg: Double) -> Int64 {
        let x = (kg * 1_000_000).rounded()
        return x.isFinite ? Int64(max(-4e18, min(4e18, x))) : 0
    }

    /// Milligrams back to kilograms.
    @inline(__always)
    static func kg(milli: Int64) -> Double { Double(milli) / 1_000_000 }

    /// Ring position of slot `s`.
    @inline(__always)
    func position(_ s: Int64) -> Int { Int(UInt64(bitPattern: s) % UInt64(ringSize)) }
}
