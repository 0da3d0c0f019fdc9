import GridCarbonModel

/// What a partition's engine closed while it processed one stream message (§8): the exact energy
/// per profile of each slot it closed, and the meter and span counts per profile of each window it
/// closed. A batch is produced only when the partition's `closedBefore` moved, and is identified by
/// `(partition, closedBefore)`: a worker that replays after a crash produces the same batches
/// again, and the merger drops the ones it has.
public struct PartialBatch: Sendable, Equatable {
    /// The per-profile energies of one closed slot (profiles with energy only, ascending).
    public struct Slot: Sendable, Equatable {
        public var index: Int64
        public var profiles: [Int32]
        public var units: [Int128]
    }
    /// The per-profile counts of one closed window (profiles with spans only, ascending).
    public struct Window: Sendable, Equatable {
        public var lengthIndex: Int32
        public var index: Int64
        public var profiles: [Int32]
        public var meters: [Int32]
        public var spans: [Int32]
    }

    public var partition: Int32
    public var partitions: Int32
    /// The hash of the registry's profiles: partitions and merger must share the registry.
    public var profileHash: UInt64
    /// The slot length and window lengths: they must match too.
    public var slot: Int64
    public var windowLengths: [Int64]
    /// The stream sequence of the message whose processing closed these slots.
    public var streamSeq: UInt64
    /// The partition's `closedBefore` after it (every slot below is closed in this partition).
    public var closedBefore: Int64
    public var slots: [Slot]
    public var windows: [Window]

    static let magic: UInt32 = 0x3150_4347  // "GCP1"

    /// The batch as bytes (little-endian; the payload of a `gridcarbon.partial.<p>` message).
    public func encoded() -> [UInt8] {
        var out = ByteWriter()
        out.u32(Self.magic)
        out.i32(partition); out.i32(partitions)
        out.u64(profileHash); out.i64(slot)
        out.i64(Int64(windowLengths.count)); for l in windowLengths { out.i64(l) }
        out.u64(streamSeq); out.i64(closedBefore)
        out.i64(Int64(slots.count))
        for s in slots {
            out.i64(s.index); out.i64(Int64(s.profiles.count))
            for (p, u) in zip(s.profiles, s.units) { out.i32(p); out.u64(UInt64(truncatingIfNeeded: u)); out.i64(Int64(truncatingIfNeeded: u >> 64)) }
        }
        out.i64(Int64(windows.count))
        for w in windows {
            out.i32(w.lengthIndex); out.i64(w.index); out.i64(Int64(w.profiles.count))
            for k in w.profiles.indices { out.i32(w.profiles[k]); out.i32(w.meters[k]); out.i32(w.spans[k]) }
        }
        return out.bytes
    }

    /// Decodes ``encoded()``; errors name the field.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(ByteCodecError) {
        var r = ByteReader(bytes, context: "partial batch")
        guard try r.u32("magic") == Self.magic else { throw r.bad("magic", "not a gridcarbon partial batch") }
        partition = try r.i32("partition"); partitions = try r.i32("partition count")
        profileHash = try r.u64("profile hash"); slot = try r.i64("slot length")
        let nw = try r.count(each: 8, "window lengths")
        windowLengths = []
        for _ in 0..<nw { windowLengths.append(try r.i64("window length")) }
        streamSeq = try r.u64("stream sequence"); closedBefore = try r.i64("closedBefore")
        let ns = try r.count(each: 16, "slots")
        slots = []
        for _ in 0..<ns {
            let index = try r.i64("slot index")
            let n = try r.count(each: 20, "slot profiles")
            var s = Slot(index: index, profiles: [], units: [])
            s.profiles.reserveCapacity(n); s.units.reserveCapacity(n)
            for _ in 0..<n {
                s.profiles.append(try r.i32("profile"))
                let lo = try r.u64("energy"), hi = try r.i64("energy")
                s.units.append(Int128(hi) << 64 | Int128(lo))
            }
            slots.append(s)
        }
        let nwin = try r.count(each: 20, "windows")
        windows = []
        for _ in 0..<nwin {
            let li = try r.i32("window length index"), index = try r.i64("window index")
            let n = try r.count(each: 12, "window profiles")
            var w = Window(lengthIndex: li, index: index, profiles: [], meters: [], spans: [])
            for _ in 0..<n {
                w.profiles.append(try r.i32("profile")); w.meters.append(try r.i32("meters")); w.spans.append(try r.i32("spans"))
            }
            windows.append(w)
        }
        try r.expectEnd("partial batch")
    }

    public init(partition: Int32, partitions: Int32, profileHash: UInt64, slot: Int64, windowLengths: [Int64],
                streamSeq: UInt64, closedBefore: Int64, slots: [Slot], windows: [Window]) {
        self.partition = partition; self.partitions = partitions; self.profileHash = profileHash
        self.slot = slot; self.windowLengths = windowLengths; self.streamSeq = streamSeq
        self.closedBefore = closedBefore; self.slots = slots; self.windows = windows
    }
}
