import GridCarbonModel

/// What a checkpoint must agree with to be restored: the settings and the registry.
struct CheckpointFingerprint: Equatable {
    var zoneOffset: Int64
    var slot: Int64
    var windows: [Int64]
    var levels: [Int64]
    var reorderWindow: Int64
    var spanHorizon: Int64
    var maxGap: Int64
    var maxFuture: Int64
    var meterCount: Int64
    var idHash: UInt64
    var profileCount: Int64
    var profileHash: UInt64

    func write<O: ByteSink>(_ o: inout O) {
        o.section(EngineCheckpointFormat.settings)
        o.i64(zoneOffset); o.i64(slot)
        o.i64(Int64(windows.count)); for w in windows { o.i64(w) }
        o.i64(Int64(levels.count)); for l in levels { o.i64(l) }
        o.i64(reorderWindow); o.i64(spanHorizon); o.i64(maxGap); o.i64(maxFuture)
        o.section(EngineCheckpointFormat.registry)
        o.i64(meterCount); o.u64(idHash); o.i64(profileCount); o.u64(profileHash)
    }

    static func read(_ r: inout ByteReader) throws -> CheckpointFingerprint {
        try r.section(EngineCheckpointFormat.settings)
        let zone = try r.i64(), slot = try r.i64()
        let nw = try r.count(each: 8, "window lengths")
        var windows: [Int64] = []
        for _ in 0..<nw { windows.append(try r.i64()) }
        let nl = try r.count(each: 8, "levels")
        var levels: [Int64] = []
        for _ in 0..<nl { levels.append(try r.i64()) }
        let reorder = try r.i64(), horizon = try r.i64(), gap = try r.i64(), future = try r.i64()
        try r.section(EngineCheckpointFormat.registry)
        let mc = try r.i64(), ih = try r.u64(), pc = try r.i64(), ph = try r.u64()
        return CheckpointFingerprint(zoneOffset: zone, slot: slot, windows: windows, levels: levels, reorderWindow: reorder,
                                     spanHorizon: horizon, maxGap: gap, maxFuture: future, meterCount: mc, idHash: ih,
                                     profileCount: pc, profileHash: ph)
    }

    /// What differs between a checkpoint's fingerprint (`self`) and this engine's (`here`), for the operator.
    func differences(from here: CheckpointFingerprint) -> [String] {
        var out: [String] = []
        func d(_ v: Int64) -> String { DurationFormat.format(v) }
        func ds(_ v: [Int64]) -> String { v.map(d).joined(separator: ",") }
        func ls(_ v: [Int64]) -> String { v.map { Level(rawValue: Int($0))?.name ?? "?\($0)" }.joined(separator: ",") }
        func zs(_ v: Int64) -> String {
            let a = abs(v)
            return (v < 0 ? "-" : "+") + String(format2: a / 3600) + ":" + String(format2: (a % 3600) / 60)
        }
        if zoneOffset != here.zoneOffset { out.append("zone offset \(zs(zoneOffset)) in the checkpoint, \(zs(here.zoneOffset)) here") }
        if slot != here.slot { out.append("resolution \(d(slot)) in the checkpoint, \(d(here.slot)) here") }
        if windows != here.windows { out.append("windows \(ds(windows)) in the checkpoint, \(ds(here.windows)) here") }
        if levels != here.levels { out.append("levels \(ls(levels)) in the checkpoint, \(ls(here.levels)) here") }
        if reorderWindow != here.reorderWindow { out.append("reorder_window \(d(reorderWindow)) in the checkpoint, \(d(here.reorderWindow)) here") }
        if spanHorizon != here.spanHorizon { out.append("span_horizon \(d(spanHorizon)) in the checkpoint, \(d(here.spanHorizon)) here") }
        if maxGap != here.maxGap { out.append("max_gap \(d(maxGap)) in the checkpoint, \(d(here.maxGap)) here") }
        if maxFuture != here.maxFuture { out.append("max_future \(d(maxFuture)) in the checkpoint, \(d(here.maxFuture)) here") }
        if meterCount != here.meterCount {
            out.append("registry has \(meterCount) meters in the checkpoint, \(here.meterCount) here")
        } else if idHash != here.idHash {
            out.append("registry meter ids differ (same count, \(meterCount), but other ids or another order)")
        } else if profileCount != here.profileCount || profileHash != here.profileHash {
            out.append("registry keys differ (the same meters, but their regions, cities, parks, enterprises or industries changed: \(profileCount) key combinations in the checkpoint, \(here.profileCount) here)")
        }
        return out
    }
}

private extension String {
    init(format2 v: Int64) { self = v < 10 ? "0\(v)" : "\(v)" }
}
