import GridCarbonModel

// The watermark (§3.4): records behind it are released in time order, spans are attributed.
extension Engine {
    /// Moves the watermark forward by wall time (`serve`, while no meter record arrives).
    public func advanceWatermark(to w: Micros) {
        if w > watermark { advance(to: w) }
    }

    /// End of input: the watermark goes to infinity, everything is attributed and closed.
    public func finish() {
        // The end of the input is not the fleet going silent: no silent-meter checks at the
        // window ends the final move passes (those of windows that close with data stay).
        finishing = true
        advance(to: Time.distantFuture)
        finishing = false
    }

    /// Moves `W` forward: attributes every span that ends at or before it (against the slots closed
    /// before the move), then closes the slots and windows it passes.
    func advance(to newW: Micros) {
        let oldW = watermark
        watermark = newW
        if linkedCount > 0 {
            let first = Time.floorDiv(oldW, Time.microsPerSecond)
            let last = min(Time.floorDiv(newW, Time.microsPerSecond), first &+ bucketMask)
            var sec = first
            while sec <= last && linkedCount > 0 {
                let b = Int(sec & bucketMask)
                var it = bucketHead[b]
                bucketHead[b] = -1
                while it >= 0 {
                    let i = Int(it)
                    let nextInBucket = pool[i].bucketNext
                    if pool[i].kind != Self.dead && pool[i].key <= newW {
                        drain(meter: Int(pool[i].meter), upTo: newW)
                    }
                    if pool[i].kind == Self.dead {
                        pool[i].next = freeHead
                        freeHead = it
                        linkedCount -= 1
                    } else {
                        pool[i].bucketNext = bucketHead[b]
                        bucketHead[b] = it
                    }
                    it = nextInBucket
                }
                sec += 1
            }
        }
        if !anomalies.isEmpty {
            anomalies.sort { ($0.ts, $0.meter, $0.kind.rawValue) < ($1.ts, $1.meter, $1.kind.rawValue) }
            for a in anomalies { sink.anomaly(a) }
            anomalies.removeAll(keepingCapacity: true)
        }
        if !lateSpans.isEmpty {
            lateSpans.sort { ($0.start, $0.meter, $0.end) < ($1.start, $1.meter, $1.end) }
            for l in lateSpans { sink.lateSpan(l) }
            lateSpans.removeAll(keepingCapacity: true)
        }
        let target = Time.floorDiv(newW &+ offset &- horizon, slotLen)
        if target > closedBefore { close(upTo: target) }
    }

    /// Processes meter `m`'s pending items with key at or before `w`, in time order.
    @inline(__always)
    func drain(meter m: Int, upTo w: Micros) {
        var h = pendHead[m]
        while h >= 0 {
            let it = pool[Int(h)]
            if it.key > w { break }
            if it.kind == 0 {
                if alertsTrackMeters {
                    let before = anomalies.count
                    reading(meter: m, ts: it.key, value: it.value)
                    alerts!.seen(meter: m, at: it.key, region: Int(meters.region[m]), register: true, anomaly: anomalies.count != before, openFrom: slotStart(closedBefore))
                } else {
                    reading(meter: m, ts: it.key, value: it.value)
                }
            } else {
                attribute(meter: m, start: it.start, end: it.key, energy: it.value)
                if it.key > intervalEnd[m] { intervalEnd[m] = it.key }
                if alertsTrackMeters {
                    alerts!.seen(meter: m, at: it.key, region: Int(meters.region[m]), register: false, anomaly: false, openFrom: slotStart(closedBefore))
                }
            }
            // Processed: unlinked from the meter now, freed when its bucket is next walked
            // (in this same watermark move: its key is behind the new watermark).
            pool[Int(h)].kind = Self.dead
            pendingCount -= 1
            h = it.next
        }
        pendHead[m] = h
    }
}
