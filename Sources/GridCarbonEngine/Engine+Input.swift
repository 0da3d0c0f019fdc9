import GridCarbonModel
#if canImport(Glibc)
import Glibc
#endif

// Lines in: parsing, validation and the per-meter pending lists (§2.2, §3.1).
extension Engine {
    /// Feeds complete lines: every line of `buffer` that ends with a newline. Returns the number of
    /// bytes consumed (up to and including the last newline); the caller keeps the rest for later.
    /// `line` is the number of the first line in `buffer` and is advanced past the lines consumed.
    @discardableResult
    public func ingest(_ buffer: UnsafeRawBufferPointer, source: Int32, line: inout Int64) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var start = 0
        let n = buffer.count
        while start < n {
            guard let nl = memchr(base + start, 0x0A, n - start) else { break }
            let end = base.distance(to: UnsafeRawPointer(nl))
            ingestLine(UnsafeRawBufferPointer(start: base + start, count: end - start), origin: LineOrigin(source: source, line: line))
            line += 1
            start = end + 1
        }
        return start
    }

    /// Feeds one line (without its newline).
    public func ingestLine(_ line: UnsafeRawBufferPointer, origin: LineOrigin) {
        switch parser.parse(line, into: &record) {
        case .skip:
            return
        case .rejected(let reason):
            reject(reason, line: line, origin: origin)
        case .record:
            apply(line: line, origin: origin)
        }
    }

    /// Rejects a line the reader could not even hand over whole (`line_too_long`), or any other.
    public func reject(_ reason: RejectReason, line: UnsafeRawBufferPointer, origin: LineOrigin) {
        counts.rejected += 1
        sink.rejected(reason, line: line, origin: origin)
    }

    @inline(__always)
    func apply(line: UnsafeRawBufferPointer, origin: LineOrigin) {
        let r = record
        switch r.kind {
        case .factor:
            if factors.addFactor(region: Int(r.region), start: r.t0, end: r.t1, value: r.value) {
                counts.accepted += 1
                acceptedByKind.factor += 1
            } else {
                reject(.overlappingFactor, line: line, origin: origin)
            }
            return
        case .mix:
            factors.addMix(region: Int(r.region), start: r.t0, end: r.t1, source: r.source, mwh: r.value)
            counts.accepted += 1
            acceptedByKind.mix += 1
            return
        case .exchange, .output, .contract:
            applyDual(r)
            return
        case .register, .interval:
            if refusesMeterRecords {
                reject(.misrouted, line: line, origin: origin)
                return
            }
        }
        let key = r.t1
        if key > now &+ settings.maxFuture {
            reject(.futureTimestamp, line: line, origin: origin)
            return
        }
        if key <= watermark {
            counts.late += 1
            sink.late(line: line, origin: origin)
            return
        }
        let m = Int(r.meter)
        let kind: UInt8 = r.kind == .register ? 0 : 1
        if kind == 1, let reason = intervalClash(meter: m, start: r.t0, end: key, kwh: r.value) {
            if let reason { reject(reason, line: line, origin: origin) } else { counts.duplicate += 1 }
            return
        }
        // Find the insertion point in the meter's sorted pending list, catching repeats.
        var prev: Int32 = -1
        var cur = pendHead[m]
        while cur >= 0 {
            let c = pool[Int(cur)]
            if c.key > key || (c.key == key && (c.kind > kind || (c.kind == kind && c.start > r.t0))) { break }
            if c.key == key && c.kind == kind && c.start == r.t0 {
                if c.value == r.value { counts.duplicate += 1 } else { reject(.conflictingDuplicate, line: line, origin: origin) }
                return
            }
            prev = cur
            cur = c.next
        }
        let slot = allocPending()
        let b = Int(Time.floorDiv(key, Time.microsPerSecond) & bucketMask)
        pool[Int(slot)] = Pending(key: key, start: r.t0, value: r.value, next: cur, meter: Int32(m), bucketNext: bucketHead[b], kind: kind)
        bucketHead[b] = slot
        if prev < 0 { pendHead[m] = slot } else { pool[Int(prev)].next = slot }
        pendingCount += 1
        linkedCount += 1
        counts.accepted += 1
        if kind == 0 { acceptedByKind.register += 1 } else { acceptedByKind.interval += 1 }
        if key > maxEventTime {
            maxEventTime = key
            let w = key &- settings.reorderWindow
            if w > watermark { advance(to: w) }
        }
    }

    /// How an `i` record `[start, end)` of meter `m` (not late) meets the intervals already accepted
    /// for the meter (reference §3.1): nil when it meets none, `.some(nil)` for an exact repeat (a
    /// duplicate), else the reason to reject it. Accepted intervals never overlap, and those behind
    /// the watermark all end at or before it, so a record ending after the watermark overlaps one of
    /// them exactly when it starts before the latest of their ends.
    @inline(__always)
    func intervalClash(meter m: Int, start: Micros, end: Micros, kwh: Double) -> RejectReason?? {
        if start < intervalEnd[m] { return .some(.overlappingInterval) }
        var h = pendHead[m]
        while h >= 0 {
            let c = pool[Int(h)]
            if c.kind == 1 && c.start < end && start < c.key {
                if c.start == start && c.key == end { return .some(c.value == kwh ? nil : .conflictingDuplicate) }
                return .some(.overlappingInterval)
            }
            h = c.next
        }
        return nil
    }

    @inline(__always)
    func allocPending() -> Int32 {
        if freeHead >= 0 {
            let s = freeHead
            freeHead = pool[Int(s)].next
            return s
        }
        if poolUsed == poolCapacity {
            let bigger = UnsafeMutablePointer<Pending>.allocate(capacity: poolCapacity * 2)
            bigger.moveInitialize(from: pool, count: poolUsed)
            pool.deallocate()
            pool = bigger
            poolCapacity *= 2
        }
        poolUsed += 1
        return Int32(poolUsed - 1)
    }
}
