import GridCarbonModel

// The scale-out state in a checkpoint: section `SCLO` (see EngineCheckpointFormat).
extension Engine {
    /// The scale-out state as bytes; empty for a whole engine.
    func scaleOutStateBytes() -> [UInt8] {
        guard let s = scaleOut else { return [] }
        var o = ByteWriter()
        switch s.role {
        case .whole: return []
        case .partition(let index, let count): o.u8(1); o.i64(Int64(index)); o.i64(Int64(count))
        case .merge(let count): o.u8(2); o.i64(Int64(count)); o.i64(0)
        }
        o.u64(s.lastStreamSeq)
        // Partition: what closed since the last batch (normally nothing between messages).
        o.i64(s.flushedClosedBefore)
        let open = PartialBatch(partition: 0, partitions: 0, profileHash: 0, slot: 0, windowLengths: [], streamSeq: 0,
                                closedBefore: 0, slots: s.slots, windows: s.windows).encoded()
        o.i64(Int64(open.count)); o.bytes(open)
        // Merge.
        o.i64(Int64(s.steps.count))
        for p in s.steps.indices {
            o.i64(s.last[p].closedBefore); o.u64(s.last[p].seq)
            o.i64(Int64(s.steps[p].count))
            for st in s.steps[p] { o.i64(st.closedBefore); o.u64(st.seq) }
        }
        let keys = s.pendingSlots.keys.sorted()
        o.i64(Int64(keys.count))
        for k in keys {
            o.i64(k)
            let e = s.pendingSlots[k]!
            o.i64(Int64(e.count))
            for u in e { o.u64(UInt64(truncatingIfNeeded: u)); o.i64(Int64(truncatingIfNeeded: u >> 64)) }
        }
        o.i64(Int64(s.grid.count))
        for g in s.grid { o.u64(g.seq); o.i64(Int64(g.lines.count)); o.bytes(g.lines) }
        o.u64(s.gridThrough)
        o.i64(Int64(s.duplicateBatches))
        return o.bytes
    }

    /// Restores ``scaleOutStateBytes()`` into this engine, whose role must be the same.
    func restoreScaleOutState(_ bytes: [UInt8], apply: Bool) throws(ByteCodecError) {
        let result: Result<Void, ByteCodecError> = bytes.withUnsafeBytes { buf in
            do throws(ByteCodecError) {
                try decodeScaleOutState(buf, apply: apply)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    private func decodeScaleOutState(_ buf: UnsafeRawBufferPointer, apply: Bool) throws(ByteCodecError) {
        do {
            var r = ByteReader(buf, context: "scale-out state")
            let here = scaleOut?.role ?? .whole
            if buf.isEmpty {
                guard here == .whole else { throw r.bad("role", "the checkpoint is a single engine's, this engine is \(here)") }
                return
            }
            let kind = try r.u8("role"), a = try r.i64("role"), b = try r.i64("role")
            let role: EngineRole
            switch kind {
            case 1: role = .partition(index: Int(a), of: Int(b))
            case 2: role = .merge(partitions: Int(a))
            default: throw r.bad("role", "unknown role \(kind)")
            }
            guard role == here else { throw r.bad("role", "the checkpoint is a \(role) engine's, this engine is \(here)") }
            let fresh = ScaleOutState(role: role)
            fresh.lastStreamSeq = try r.u64("last stream sequence")
            fresh.flushedClosedBefore = try r.i64("flushed closedBefore")
            let n = try r.count(each: 1, "open batch bytes")
            let open = try PartialBatch(decoding: try r.bytes(n, "open batch"))
            fresh.slots = open.slots; fresh.windows = open.windows
            let parts = try r.count(each: 24, "partitions")
            if fresh.isMerge && parts != fresh.steps.count { throw r.bad("partitions", "\(parts) partitions, the role says \(fresh.steps.count)") }
            for p in 0..<parts {
                let last = ScaleOutState.Step(closedBefore: try r.i64("last step"), seq: try r.u64("last step"))
                let ns = try r.count(each: 16, "steps")
                var steps: [ScaleOutState.Step] = []
                for _ in 0..<ns { steps.append(ScaleOutState.Step(closedBefore: try r.i64("step"), seq: try r.u64("step"))) }
                if p < fresh.steps.count { fresh.last[p] = last; fresh.steps[p] = steps }
            }
            let nk = try r.count(each: 16, "pending slots")
            for _ in 0..<nk {
                let k = try r.i64("pending slot")
                let ne = try r.count(each: 16, "pending slot energies")
                guard ne == profileCount else { throw r.bad("pending slot energies", "\(ne) profiles, the registry has \(profileCount)") }
                var e: [Int128] = []
                e.reserveCapacity(ne)
                for _ in 0..<ne { let lo = try r.u64("energy"), hi = try r.i64("energy"); e.append(Int128(hi) << 64 | Int128(lo)) }
                fresh.pendingSlots[k] = e
            }
            let ng = try r.count(each: 16, "grid messages")
            for _ in 0..<ng {
                let seq = try r.u64("grid sequence")
                let len = try r.count(each: 1, "grid message bytes")
                fresh.grid.append((seq, Array(try r.bytes(len, "grid message"))))
            }
            fresh.gridThrough = try r.u64("grid through")
            fresh.duplicateBatches = Int(try r.i64("duplicate batches"))
            try r.expectEnd("scale-out state")
            if apply { scaleOut = fresh }
        }
    }
}
