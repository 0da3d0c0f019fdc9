import GridCarbonModel

// Spans to slots (§3.1, §3.2): register pairs become spans, spread over the slots they overlap.
extension Engine {
    /// A register reading behind the watermark: compare with the baseline (§3.1).
    @inline(__always)
    func reading(meter m: Int, ts t1: Micros, value v1: Double) {
        let t0 = baseTs[m]
        baseTs[m] = t1
        let v0 = baseVal[m]
        baseVal[m] = v1
        if t0 == Time.distantPast { return }
        if t1 &- t0 > settings.maxGap {
            anomalies.append(Anomaly(kind: .meterGap, meter: Int32(m), ts: t1, kwh: v1, previousTs: t0, previousKWh: v0, maxKW: maxKW[m]))
        }
        if v1 < v0 {
            anomalies.append(Anomaly(kind: .registerReset, meter: Int32(m), ts: t1, kwh: v1, previousTs: t0, previousKWh: v0, maxKW: maxKW[m]))
            return
        }
        let e = v1 - v0
        let kw = maxKW[m]
        if kw.isFinite && e / (Double(t1 &- t0) / Double(Time.microsPerHour)) > kw {
            anomalies.append(Anomaly(kind: .implausibleJump, meter: Int32(m), ts: t1, kwh: v1, previousTs: t0, previousKWh: v0, maxKW: kw))
            return
        }
        attribute(meter: m, start: t0, end: t1, energy: e)
    }

    @inline(__always)
    func slotIndex(_ t: Micros) -> Int64 { Time.floorDiv(t &+ offset, slotLen) }

    @inline(__always)
    func slotStart(_ s: Int64) -> Micros { s &* slotLen &- offset }

    /// Attributes span `[a, b)` of `e` kWh to the open slots it overlaps and counts it in the
    /// windows; the part in closed slots becomes a `late_span`.
    @inline(__always)
    func attribute(meter m: Int, start a: Micros, end b: Micros, energy e: Double) {
        let openFrom = slotStart(closedBefore)
        var a2 = a
        if a < openFrom {
            let lateEnd = min(b, openFrom)
            let lateE = b <= openFrom ? e : e * Double(lateEnd &- a) / Double(b &- a)
            lateSpans.append(LateSpan(meter: Int32(m), start: a, end: lateEnd, kwh: lateE))
            if b <= openFrom { return }
            a2 = openFrom
        }
        let mask = Int64(ringSize - 1)
        let p = Int(profileOf[m])
        if a2 >= cachedSlot.start && b <= cachedSlot.end {
            // Fast path: the span lies in the same slot as the last one.
            let r = Int(cachedSlot.index & mask)
            cells[r &* meterCount &+ m] += a2 == a ? e : e * Double(b &- a2) / Double(b &- a)
            if !touched[r] { touched[r] = true; touchedCount += 1 }
        } else {
            let sA = slotIndex(a2), sB = slotIndex(b &- 1)
            precondition(sB &- closedBefore < Int64(ringSize), "span beyond the slot ring: watermark invariant broken")
            if sA == sB && a2 == a {
                let r = Int(sA & mask)
                cells[r &* meterCount &+ m] += e
                if !touched[r] { touched[r] = true; touchedCount += 1 }
            } else {
                let d = Double(b &- a)
                var s = sA
                while s <= sB {
                    let ss = slotStart(s)
                    let ov = min(b, ss &+ slotLen) &- max(a2, ss)
                    let r = Int(s & mask)
                    cells[r &* meterCount &+ m] += e * Double(ov) / d
                    if !touched[r] { touched[r] = true; touchedCount += 1 }
                    s += 1
                }
            }
            let ss = slotStart(sB)
            cachedSlot = (sB, ss, ss &+ slotLen)
        }
        for li in 0..<windowLens.count {
            let c = cachedWindow[li]
            if a2 >= c.start && b <= c.end {
                window(li, c.index).count(meter: m, profile: p)
                continue
            }
            let len = windowLens[li]
            let wA = Time.floorDiv(a2 &+ offset, len), wB = Time.floorDiv(b &- 1 &+ offset, len)
            var w = wA
            while w <= wB {
                window(li, w).count(meter: m, profile: p)
                w += 1
            }
            let ws = wB &* len &- offset
            cachedWindow[li] = (wB, ws, ws &+ len)
        }
    }

    /// The accumulator of window `w` of length `li`, opened on first use.
    @inline(__always)
    func window(_ li: Int, _ w: Int64) -> WindowAccumulator {
        if let r = recent[li], r.index == w { return r }
        let acc = openWindow(li, w)
        recent[li] = acc
        return acc
    }

    func openWindow(_ li: Int, _ w: Int64) -> WindowAccumulator {
        var i = open[li].count - 1
        while i >= 0 {
            if open[li][i].index == w { return open[li][i] }
            if open[li][i].index < w { break }
            i -= 1
        }
        var acc: WindowAccumulator
        if let k = spare.lastIndex(where: { $0.lengthIndex == li }) {
            acc = spare.remove(at: k)
            acc.reset(index: w)
        } else {
            acc = WindowAccumulator(lengthIndex: li, index: w, profiles: profileCount, meters: meterCount)
        }
        open[li].insert(acc, at: i + 1)
        return acc
    }
}
