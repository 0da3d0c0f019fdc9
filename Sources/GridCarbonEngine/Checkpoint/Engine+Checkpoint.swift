import GridCarbonModel

extension Engine {
    /// The engine's state as bytes (see ``EngineCheckpointFormat``), for crash recovery: a fresh
    /// engine with the same settings, registry, tables and sink type that restores them and is fed
    /// the input after this point makes exactly the sink calls this engine would have made.
    ///
    /// Call it between input calls (never from inside a sink callback).
    public func checkpoint() -> [UInt8] {
        let fp = fingerprint()
        var counter = CountingSink()
        writeState(&counter, fingerprint: fp)
        let payload = counter.size
        let header = EngineCheckpointFormat.headerSize
        return [UInt8](unsafeUninitializedCapacity: header + payload) { buf, initialized in
            let base = UnsafeMutableRawPointer(buf.baseAddress!)
            var out = MemorySink(base: base + header, capacity: payload)
            writeState(&out, fingerprint: fp)
            precondition(out.at == payload, "checkpoint size changed between the counting and the writing pass")
            base.copyMemory(from: EngineCheckpointFormat.magic, byteCount: 8)
            base.storeBytes(of: EngineCheckpointFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            base.storeBytes(of: EngineCheckpointFormat.flags.littleEndian, toByteOffset: 12, as: UInt32.self)
            base.storeBytes(of: UInt64(payload).littleEndian, toByteOffset: 16, as: UInt64.self)
            var crc = CRC32.checksum(UnsafeRawBufferPointer(start: base, count: 24))
            crc = CRC32.checksum(UnsafeRawBufferPointer(start: base + header, count: payload), seed: crc)
            base.storeBytes(of: crc.littleEndian, toByteOffset: 24, as: UInt32.self)
            base.storeBytes(of: UInt32(0), toByteOffset: 28, as: UInt32.self)
            initialized = header + payload
        }
    }

    /// The bytes of ``checkpoint()`` handed to `write` in chunks of about 1 MiB, so a large engine is
    /// checkpointed to a file without holding a second copy of its state. Three passes over the
    /// state (size, CRC, bytes); the state must not change in between (call it on the engine's own
    /// thread, between input calls).
    public func checkpoint(into write: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fp = fingerprint()
        var counter = CountingSink()
        writeState(&counter, fingerprint: fp)
        let payload = counter.size
        var header = [UInt8](repeating: 0, count: EngineCheckpointFormat.headerSize)
        header.withUnsafeMutableBytes { h in
            EngineCheckpointFormat.magic.withUnsafeBytes { h.copyMemory(from: $0) }
            h.storeBytes(of: EngineCheckpointFormat.version.littleEndian, toByteOffset: 8, as: UInt32.self)
            h.storeBytes(of: EngineCheckpointFormat.flags.littleEndian, toByteOffset: 12, as: UInt32.self)
            h.storeBytes(of: UInt64(payload).littleEndian, toByteOffset: 16, as: UInt64.self)
        }
        var crc = CRCSink(crc: header.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<24])) })
        writeState(&crc, fingerprint: fp)
        header.withUnsafeMutableBytes { $0.storeBytes(of: crc.crc.littleEndian, toByteOffset: 24, as: UInt32.self) }
        try header.withUnsafeBytes { try write($0) }
        try withoutActuallyEscaping(write) { w in
            var out = StreamSink(write: w)
            writeState(&out, fingerprint: fp)
            out.flush()
            if let e = out.error { throw e }
            precondition(out.written == payload, "checkpoint size changed between the counting and the writing pass")
        }
    }

    /// Restores the state of ``checkpoint()`` into this engine, which must be freshly constructed
    /// (nothing ingested, no source registered, the watermark not moved) with the same settings and
    /// registry. Throws ``CheckpointError`` and leaves the engine untouched when the checkpoint is
    /// corrupt, truncated, of another version or configuration.
    public func restore(from bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try restore(from: $0) }
    }

    /// ``restore(from:)-([UInt8])`` from raw memory (a mapped or read file).
    public func restore(from bytes: UnsafeRawBufferPointer) throws {
        if let why = notFreshReason() { throw CheckpointError.engineNotFresh(why) }
        let header = EngineCheckpointFormat.headerSize
        guard bytes.count >= 8, let base = bytes.baseAddress else {
            throw bytes.isEmpty ? CheckpointError.corrupt("empty") : CheckpointError.corrupt("truncated: \(bytes.count) bytes, shorter than the magic")
        }
        guard bytes.prefix(8).elementsEqual(EngineCheckpointFormat.magic) else { throw CheckpointError.notACheckpoint }
        guard bytes.count >= header else { throw CheckpointError.corrupt("truncated: \(bytes.count) bytes, shorter than the \(header)-byte header") }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard EngineCheckpointFormat.readable.contains(version) else { throw CheckpointError.unsupportedVersion(version) }
        let flags = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard flags == EngineCheckpointFormat.flags else {
            throw CheckpointError.corrupt(flags == 1 || flags == 0 ? "written on a machine of the other byte order" : "unknown flags \(flags)")
        }
        let payload = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        guard payload == UInt64(bytes.count - header) else {
            throw CheckpointError.corrupt(payload > UInt64(bytes.count - header)
                ? "truncated: the header announces \(payload) bytes of state, \(bytes.count - header) present"
                : "\(UInt64(bytes.count - header) - payload) bytes of trailing garbage after the \(payload) bytes of state")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        var crc = CRC32.checksum(UnsafeRawBufferPointer(start: base, count: 24))
        crc = CRC32.checksum(UnsafeRawBufferPointer(start: base + header, count: bytes.count - header), seed: crc)
        guard crc == stored else {
            throw CheckpointError.corrupt("CRC-32 mismatch (stored \(hex(stored)), computed \(hex(crc)))")
        }
        guard bytes.loadUnaligned(fromByteOffset: 28, as: UInt32.self) == 0 else {
            throw CheckpointError.corrupt("reserved header field is not zero")
        }
        // Two passes over the same bytes: the first checks everything and changes nothing, so a
        // refused checkpoint leaves the engine fresh; the second applies.
        let here = fingerprint()
        do {
            var check = ByteReader(bytes, from: header, context: "header")
            try readState(&check, here: here, version: version, apply: false)
            var apply = ByteReader(bytes, from: header, context: "header")
            try readState(&apply, here: here, version: version, apply: true)
        } catch let e as ByteCodecError {
            throw CheckpointError(e)
        }
        resetCaches()
    }

    // MARK: Fingerprint

    func fingerprint() -> CheckpointFingerprint {
        let (idHash, profileHash) = registryHashes ?? hashRegistry()
        registryHashes = (idHash, profileHash)
        return CheckpointFingerprint(
            zoneOffset: Int64(settings.zone.offsetSeconds), slot: settings.slot, windows: settings.windows,
            levels: Set(settings.levels).map { Int64($0.rawValue) }.sorted(),
            reorderWindow: settings.reorderWindow, spanHorizon: settings.spanHorizon, maxGap: settings.maxGap,
            maxFuture: settings.maxFuture, meterCount: Int64(meterCount), idHash: idHash,
            profileCount: Int64(profileCount), profileHash: profileHash)
    }

    /// Hashes of the meter ids in order, and of the profiles (their keys, meter → profile, key names).
    func hashRegistry() -> (ids: UInt64, profiles: UInt64) {
        var ids = FoldHash()
        var buf: [UInt8] = []
        buf.reserveCapacity(1 << 16 + 128)
        for m in 0..<meterCount {
            registry.appendID(m, to: &buf)
            buf.append(0x0A)
            if buf.count >= 1 << 16 {
                buf.withUnsafeBytes { ids.add($0) }
                buf.removeAll(keepingCapacity: true)
            }
        }
        buf.withUnsafeBytes { ids.add($0) }
        var keys = FoldHash()
        for p in profiles {   // per field: the struct's layout is not part of the format
            keys.add(Int64(p.region) << 32 | Int64(UInt32(bitPattern: p.city)))
            keys.add(Int64(p.park) << 32 | Int64(UInt32(bitPattern: p.enterprise)))
            keys.add(Int64(p.industry) << 32 | Int64(UInt32(bitPattern: p.meter)))
        }
        keys.add(UnsafeRawBufferPointer(start: profileOf, count: meterCount * 4))
        for level in Level.allCases where level != .meter {   // meter names are the ids, hashed above
            for name in registry.keyNames[level.rawValue] {
                var name = name
                name.withUTF8 { keys.add(UnsafeRawBufferPointer($0)) }
            }
            keys.add(Int64(-1))
        }
        // After a live reload (Engine+Registry.swift): retired meters, and meter-level keys that
        // are no longer the ids in meter order. Registries read from a file hash as before.
        if registry.liveCount != meterCount { keys.add(Int64(registry.liveCount)) }
        let meterKeys = registry.keyNames[Level.meter.rawValue]
        if !meterKeys.isEmpty && (meterKeys.count != meterCount || !meterKeys.indices.allSatisfy({ meterKeys[$0] == registry.meterID($0) })) {
            for name in meterKeys {
                var name = name
                name.withUTF8 { keys.add(UnsafeRawBufferPointer($0)) }
            }
            keys.add(Int64(-2))
        }
        return (ids.value, keys.value)
    }

    /// Why this engine cannot take a checkpoint, or nil when it is fresh.
    func notFreshReason() -> String? {
        if counts.total > 0 { return "\(counts.total) record lines ingested" }
        if !sourceNames.isEmpty { return "sources registered: \(sourceNames.joined(separator: ", "))" }
        if watermark != Time.distantPast || maxEventTime != Time.distantPast { return "the watermark has moved" }
        if pendingCount > 0 || linkedCount > 0 || poolUsed > 0 { return "records pending" }
        if touchedCount > 0 || open.contains(where: { !$0.isEmpty }) || windowsClosed > 0 { return "slots or windows open" }
        if closedBefore != Int64.min / 8 || totals.day != Int.min { return "slots closed" }
        return nil
    }

    /// Caches are not state: cold ones give the same results.
    func resetCaches() {
        cachedSlot = (0, 0, 0)
        for li in 0..<windowLens.count {
            cachedWindow[li] = (0, 0, 0)
            recent[li] = nil
        }
        record = ParsedRecord()
        parser.lastStamp.length = -1
    }

    // MARK: Writing

    func writeState<O: ByteSink>(_ o: inout O, fingerprint fp: CheckpointFingerprint) {
        typealias F = EngineCheckpointFormat
        fp.write(&o)

        o.section(F.scalars)
        o.i64(Int64(counts.accepted)); o.i64(Int64(counts.duplicate)); o.i64(Int64(counts.rejected)); o.i64(Int64(counts.late))
        o.i64(watermark); o.i64(maxEventTime); o.i64(Int64(windowsClosed)); o.i64(closedBefore)

        o.section(F.sources)
        o.i64(Int64(sourceNames.count))
        for name in sourceNames { o.string(name) }

        o.section(F.baselines)
        o.i64(Int64(meterCount))
        o.raw(baseTs, count: meterCount)
        o.raw(baseVal, count: meterCount)
        o.raw(intervalEnd, count: meterCount)

        o.section(F.pending)
        o.i64(Int64(pendingCount))
        if o.counting {
            o.reserve(pendingCount * 32)
        } else {
            var written = 0
            for m in 0..<meterCount {
                var h = pendHead[m]
                while h >= 0 {
                    let it = pool[Int(h)]
                    o.i64(it.key); o.i64(it.start); o.f64(it.value); o.i32(it.meter); o.u32(UInt32(it.kind))
                    written += 1
                    h = it.next
                }
            }
            precondition(written == pendingCount, "pending lists hold \(written) items, pendingCount says \(pendingCount)")
        }

        o.section(F.slots)
        o.i64(Int64(ringSize))
        o.i64(Int64(touchedCount))
        for r in 0..<ringSize where touched[r] {
            o.i64(Int64(r))
            o.raw(cells + r * meterCount, count: meterCount)
        }

        o.section(F.windows)
        o.i64(Int64(windowLens.count))
        for li in 0..<windowLens.count {
            o.i64(Int64(open[li].count))
            for acc in open[li] {
                o.i64(acc.index)
                o.raw(acc.energy, count: profileCount)
                o.raw(acc.co2, count: profileCount)
                o.raw(acc.realtime, count: profileCount)
                o.raw(acc.spans, count: profileCount)
                o.raw(acc.meters, count: profileCount)
                o.raw(acc.seen, count: acc.seenWords)
            }
        }

        o.section(F.factors)
        o.i64(Int64(Region.count))
        for r in 0..<Region.count {
            let fs = factors.factors[r], ms = factors.mixes[r]
            o.i64(Int64(fs.count))
            for f in fs { o.i64(f.start); o.i64(f.end); o.f64(f.value) }
            o.i64(Int64(ms.count))
            for m in ms { o.i64(m.start); o.i64(m.end); o.i64(Int64(m.source.rawValue)); o.f64(m.mwh) }
        }

        o.section(F.totals)
        o.i64(Int64(totals.day)); o.i64(Int64(totals.month)); o.i64(Int64(totals.year))
        o.i64(Int64(profileCount))
        o.array(totals.dayTotals)
        o.array(totals.monthTotals)
        o.array(totals.yearTotals)

        writeDual(&o)

        let alertBytes = alertState()
        o.section(F.alerts)
        o.i64(Int64(alertBytes.count))
        o.array(alertBytes)

        let scaleOutBytes = scaleOutStateBytes()
        if !scaleOutBytes.isEmpty {
            o.section(F.scaleOut)
            o.i64(Int64(scaleOutBytes.count))
            o.array(scaleOutBytes)
        }

        o.section(F.end)
    }

    // MARK: Reading

    /// Reads the state; with `apply` false it only checks (every length, index and enum value),
    /// with `apply` true it installs what it reads.
    func readState(_ r: inout ByteReader, here: CheckpointFingerprint, version: UInt32 = EngineCheckpointFormat.version, apply: Bool) throws {
        typealias F = EngineCheckpointFormat
        let fp = try CheckpointFingerprint.read(&r)
        let diffs = fp.differences(from: here)
        if !diffs.isEmpty { throw CheckpointError.configurationMismatch(diffs.joined(separator: "; ")) }
        // Equal fingerprints mean equal meter and profile counts below.

        try r.section(F.scalars)
        var c = LineCounts()
        c.accepted = Int(try r.i64("accepted")); c.duplicate = Int(try r.i64("duplicate"))
        c.rejected = Int(try r.i64("rejected")); c.late = Int(try r.i64("late"))
        let w = try r.i64("watermark"), maxT = try r.i64("maxEventTime")
        let closed = try r.i64("windowsClosed"), before = try r.i64("closedBefore")
        guard c.accepted >= 0, c.duplicate >= 0, c.rejected >= 0, c.late >= 0, closed >= 0 else { throw r.fail("negative count") }
        if apply {
            counts = c; watermark = w; maxEventTime = maxT; windowsClosed = Int(closed); closedBefore = before
        }

        try r.section(F.sources)
        let ns = try r.count(each: 8, "source names")
        var names: [String] = []
        for i in 0..<ns {
            names.append(try r.string("source name \(i)"))
        }
        if apply { sourceNames = names }

        try r.section(F.baselines)
        guard try r.i64("meter count") == Int64(meterCount) else { throw r.fail("meter count disagrees with the registry section") }
        try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(baseTs) : nil, "baseline timestamps")
        try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(baseVal) : nil, "baseline values")
        // Version 2 did not keep the ends of attributed intervals: after it, only the pending
        // intervals catch overlaps until the meter's next interval is attributed.
        if version >= 3 { try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(intervalEnd) : nil, "interval ends") }

        try r.section(F.pending)
        let np = try r.count(each: 32, "pending items")
        var lastMeter = -1
        var lastKey = Int64.min
        var tail: Int32 = -1
        for _ in 0..<np {
            let key = try r.i64(), start = try r.i64(), value = try r.f64(), meter = try r.i32(), kind = try r.u32()
            let m = Int(meter)
            guard m >= 0 && m < meterCount else { throw r.fail("pending item for meter \(m) of \(meterCount)") }
            guard kind <= 1 else { throw r.fail("pending item of unknown kind \(kind)") }
            guard m > lastMeter || (m == lastMeter && key >= lastKey) else { throw r.fail("pending items out of order at meter \(m)") }
            guard kind == 1 || start == key else { throw r.fail("register reading with start \(start) != ts \(key)") }
            if apply {
                let slot = allocPending()
                let b = Int(Time.floorDiv(key, Time.microsPerSecond) & bucketMask)
                pool[Int(slot)] = Pending(key: key, start: start, value: value, next: -1, meter: meter, bucketNext: bucketHead[b], kind: UInt8(kind))
                bucketHead[b] = slot
                if m == lastMeter { pool[Int(tail)].next = slot } else { pendHead[m] = slot }
                tail = slot
                pendingCount += 1
                linkedCount += 1
            }
            lastMeter = m
            lastKey = key
        }

        try r.section(F.slots)
        guard try r.i64("ring size") == Int64(ringSize) else { throw r.fail("slot ring size differs from \(ringSize)") }
        let nt = try r.count(each: 8 + meterCount * 8, "touched slots")
        guard nt <= ringSize else { throw r.fail("\(nt) touched slots in a ring of \(ringSize)") }
        var seenRing = [Bool](repeating: false, count: ringSize)
        for _ in 0..<nt {
            let ri = try r.i64("ring index")
            guard ri >= 0 && ri < Int64(ringSize) else { throw r.fail("ring index \(ri) outside 0..<\(ringSize)") }
            let ring = Int(ri)
            guard !seenRing[ring] else { throw r.fail("ring index \(ring) twice") }
            seenRing[ring] = true
            try r.raw(meterCount * 8, into: apply ? UnsafeMutableRawPointer(cells + ring * meterCount) : nil, "energy cells of ring slot \(ring)")
            if apply {
                touched[ring] = true
                touchedCount += 1
            }
        }

        try r.section(F.windows)
        guard try r.i64("window length count") == Int64(windowLens.count) else { throw r.fail("window length count differs") }
        let seenWords = max(1, (meterCount + 63) / 64)
        let accBytes = 8 + profileCount * 56 + seenWords * 8
        for li in 0..<windowLens.count {
            let na = try r.count(each: accBytes, "open windows of length \(DurationFormat.format(windowLens[li]))")
            var lastIndex = Int64.min
            for k in 0..<na {
                let index = try r.i64("window index")
                guard k == 0 || index > lastIndex else { throw r.fail("open windows of length \(DurationFormat.format(windowLens[li])) out of order") }
                lastIndex = index
                let acc: WindowAccumulator? = apply ? WindowAccumulator(lengthIndex: li, index: index, profiles: profileCount, meters: meterCount) : nil
                let p16 = profileCount * 16, p4 = profileCount * 4
                try r.raw(p16, into: acc.map { UnsafeMutableRawPointer($0.energy) }, "window energy")
                try r.raw(p16, into: acc.map { UnsafeMutableRawPointer($0.co2) }, "window co2")
                try r.raw(p16, into: acc.map { UnsafeMutableRawPointer($0.realtime) }, "window realtime energy")
                try r.raw(p4, into: acc.map { UnsafeMutableRawPointer($0.spans) }, "window spans")
                try r.raw(p4, into: acc.map { UnsafeMutableRawPointer($0.meters) }, "window meters")
                try r.raw(seenWords * 8, into: acc.map { UnsafeMutableRawPointer($0.seen) }, "window meter set")
                if let acc { open[li].append(acc) }
            }
        }

        try r.section(F.factors)
        guard try r.i64("region count") == Int64(Region.count) else { throw r.fail("region count differs from \(Region.count)") }
        var fss: [[FactorBook.FactorEntry]] = []
        var mss: [[FactorBook.MixEntry]] = []
        for reg in 0..<Region.count {
            let nf = try r.count(each: 24, "factors of \(Region.codes[reg])")
            var fs: [FactorBook.FactorEntry] = []
            fs.reserveCapacity(nf)
            for _ in 0..<nf {
                let s = try r.i64(), e = try r.i64(), v = try r.f64()
                guard e > s else { throw r.fail("factor of \(Region.codes[reg]) with end before start") }
                if let last = fs.last, last.end > s { throw r.fail("factors of \(Region.codes[reg]) overlap or out of order") }
                fs.append(FactorBook.FactorEntry(start: s, end: e, value: v))
            }
            let nm = try r.count(each: 32, "mix records of \(Region.codes[reg])")
            var ms: [FactorBook.MixEntry] = []
            ms.reserveCapacity(nm)
            for _ in 0..<nm {
                let s = try r.i64(), e = try r.i64(), src = try r.i64(), v = try r.f64()
                guard let source = Source(rawValue: Int(truncatingIfNeeded: src)), Int64(source.rawValue) == src else {
                    throw r.fail("mix record of \(Region.codes[reg]) with unknown source \(src)")
                }
                guard e > s else { throw r.fail("mix record of \(Region.codes[reg]) with end before start") }
                ms.append(FactorBook.MixEntry(start: s, end: e, source: source, mwh: v))
            }
            fss.append(fs)
            mss.append(ms)
        }
        if apply {
            factors.factors = fss
            factors.mixes = mss
            factors.flowCache.clear()
        }

        try r.section(F.totals)
        let day = try r.i64("day"), month = try r.i64("month"), year = try r.i64("year")
        guard try r.i64("profile count") == Int64(profileCount) else { throw r.fail("profile count disagrees with the registry section") }
        let periodBytes = profileCount * MemoryLayout<RunningTotals.Period>.stride
        try r.need(3 * periodBytes, "running totals")
        if apply {
            totals.day = Int(day); totals.month = Int(month); totals.year = Int(year)
            try totals.dayTotals.withUnsafeMutableBytes { try r.raw(periodBytes, into: $0.baseAddress, "day totals") }
            try totals.monthTotals.withUnsafeMutableBytes { try r.raw(periodBytes, into: $0.baseAddress, "month totals") }
            try totals.yearTotals.withUnsafeMutableBytes { try r.raw(periodBytes, into: $0.baseAddress, "year totals") }
        } else {
            r.at += 3 * periodBytes
        }

        if version >= 4 {
            try readDual(&r, apply: apply)
        } else if apply {
            factors.setExchanges([])
            dual = DualBook()
        }

        if r.at + 8 <= r.end, r.base.loadUnaligned(fromByteOffset: r.at, as: UInt64.self) == F.alerts {
            try r.section(F.alerts)
            let n = try r.count(each: 1, "alert state bytes")
            var bytes = [UInt8](repeating: 0, count: n)
            try bytes.withUnsafeMutableBytes { try r.raw(n, into: $0.baseAddress, "alert state") }
            do { try restoreAlertState(bytes, apply: apply) } catch { throw r.fail("\(error)") }
        }

        var scaleOutBytes: [UInt8] = []
        if r.at + 8 <= r.end, r.base.loadUnaligned(fromByteOffset: r.at, as: UInt64.self) == F.scaleOut {
            try r.section(F.scaleOut)
            let n = try r.count(each: 1, "scale-out state bytes")
            scaleOutBytes = [UInt8](repeating: 0, count: n)
            try scaleOutBytes.withUnsafeMutableBytes { try r.raw(n, into: $0.baseAddress, "scale-out state") }
        }
        try restoreScaleOutState(scaleOutBytes, apply: apply)

        try r.section(F.end)
        guard r.at == r.end else { throw CheckpointError.corrupt("\(r.end - r.at) bytes after the end section") }
    }
}

private func hex(_ v: UInt32) -> String { SequenceName.zeroPadded(v, width: 8, radix: 16) }
