/// What a registry reload changes (§2.1), as reported to the operator.
public struct RegistryChange: Sendable, Equatable {
    /// Meters in the new registry file.
    public var meters = 0
    /// Meters of the new file that the old registry did not have.
    public var added = 0
    /// Meters of the old registry that the new file does not have.
    public var removed = 0
    /// Meters in both whose region, city, park, enterprise, industry or max_kw differ.
    public var changed = 0
    /// Old meters kept as retired entries for state the engine still holds for them (see
    /// ``Registry/replaced(by:retain:)``).
    public var retired = 0

    public init() {}

    /// Whether the new file names the same meters with the same keys and max_kw (perhaps in
    /// another order): nothing to reload.
    public var isEmpty: Bool { added == 0 && removed == 0 && changed == 0 }
}

/// The registry that replaces another one live, and how the old meters map onto it.
public struct RegistryReplacement: Sendable {
    /// The new registry: the file's meters first, in file order, then the retired meters.
    public var registry: Registry
    /// Per meter of the old registry: the live meter of the new one with the same id, or -1
    /// (removed, or the old meter was itself retired).
    public var successor: [Int32]
    /// Per meter of the old registry: its retired copy in the new registry, or -1.
    public var retiredAs: [Int32]
    public var change: RegistryChange
}

extension Registry {
    /// Builds the registry that replaces this one by `fresh` (a registry file just read and
    /// validated) in a running engine, so that what the engine holds keeps its meaning:
    /// - every key name and every profile of this registry keeps its index; the file's new names
    ///   and key combinations are appended (a profile no meter uses any more simply holds nothing);
    /// - the file's meters come first, in file order, and are the only ones lookup finds;
    /// - old meters for which `retain(old, successor, sameKeys)` says so follow as *retired*
    ///   meters, with their old keys and max_kw: `successor` is the new index of the live meter
    ///   with the same id (nil when the file drops it, and always for an already retired meter),
    ///   `sameKeys` whether that successor has the same keys. The engine retains removed meters
    ///   that still have pending readings or open-slot energy, and moved meters' open-slot energy.
    public func replaced(by fresh: Registry, retain: (_ old: Int, _ successor: Int?, _ sameKeys: Bool) -> Bool) -> RegistryReplacement {
        var r = Registry(meterLevel: meterLevel)
        r.index = nil
        r.keyNames = keyNames
        r.profiles = profiles
        var interned: [[String: Int32]] = keyNames.map { names in
            var d: [String: Int32] = [:]
            d.reserveCapacity(names.count)
            for (i, n) in names.enumerated() { d[n] = Int32(i) }
            return d
        }
        var profileIndex: [Profile: Int32] = [:]
        profileIndex.reserveCapacity(profiles.count)
        for (i, p) in profiles.enumerated() where profileIndex[p] == nil { profileIndex[p] = Int32(i) }
        func intern(_ level: Level, _ name: String) -> Int32 {
            if let i = interned[level.rawValue][name] { return i }
            let i = Int32(r.keyNames[level.rawValue].count)
            r.keyNames[level.rawValue].append(name)
            interned[level.rawValue][name] = i
            return i
        }
        let idBytesTotal = fresh.count == 0 ? 0 : Int(fresh.index!.offsets[fresh.count])
        r.idBytes.reserveCapacity(idBytesTotal + 64)
        r.rebuildTable(capacity: max(16, fresh.count * 2))
        // The file's key combinations, re-interned into this registry's numbering in the file's
        // order: all of them, not only those of the meters kept, so a scale-out worker (its
        // partition's meters) and the merger (none) number profiles as a whole registry does
        // (``MeterScope``). The file's order is that of first use by its meters, so a registry
        // holding every meter numbers them as before.
        func name(_ level: Level, _ k: Int32) -> Int32 { k < 0 ? -1 : intern(level, fresh.keyNames[level.rawValue][Int(k)]) }
        func profileNumber(_ fp: Profile, meter: Int32) -> Int32 {
            var p = Profile(region: fp.region, city: name(.city, fp.city), park: name(.park, fp.park),
                            enterprise: name(.enterprise, fp.enterprise), industry: name(.industry, fp.industry), meter: -1)
            p.meter = meter
            if let existing = profileIndex[p] { return existing }
            let pi = Int32(r.profiles.count)
            r.profiles.append(p)
            profileIndex[p] = pi
            return pi
        }
        let numbered = meterLevel ? [] : fresh.profiles.map { profileNumber($0, meter: -1) }
        let fx = fresh.index!
        for j in 0..<fresh.count {
            // With the meter level, each meter is its own profile (every process keeps every meter).
            let pi = meterLevel ? profileNumber(fresh.profiles[Int(fx.profile[j])], meter: intern(.meter, fresh.meterID(j)))
                                : numbered[Int(fx.profile[j])]
            let lo = Int(fx.offsets[j]), hi = Int(fx.offsets[j + 1])
            r.appendMeter(id: UnsafeRawBufferPointer(start: fx.bytes + lo, count: hi - lo), region: fx.region[j], profile: pi, maxKW: fx.maxKW[j])
        }
        // Old meters: successors, changes, and the retired ones appended.
        var change = RegistryChange()
        change.meters = fresh.count
        var successor = [Int32](repeating: -1, count: count)
        var retiredAs = [Int32](repeating: -1, count: count)
        var kept = 0
        let ox = index!
        for i in 0..<count {
            let lo = Int(ox.offsets[i]), hi = Int(ox.offsets[i + 1])
            let id = UnsafeRawBufferPointer(start: ox.bytes + lo, count: hi - lo)
            var s: Int? = nil
            if i < liveCount { s = r.lookup(id) }
            let same = s.map { r.profiles_[$0] == ox.profile[i] } ?? false
            if i < liveCount {
                if let s {
                    if !same || r.maxKWs[s] != ox.maxKW[i] { change.changed += 1 }
                    successor[i] = Int32(s)
                } else {
                    change.removed += 1
                }
            }
            if retain(i, s, same) {
                retiredAs[i] = Int32(fresh.count + kept)
                kept += 1
                r.appendMeter(id: id, region: ox.region[i], profile: ox.profile[i], maxKW: ox.maxKW[i], findable: false)
            }
        }
        change.added = fresh.count - (liveCount - change.removed)
        change.retired = kept
        r.freeze()
        return RegistryReplacement(registry: r, successor: successor, retiredAs: retiredAs, change: change)
    }
}

extension Registry {
    /// What replacing this registry's live meters by `fresh` would change (``RegistryChange/retired``
    /// stays 0: that depends on the engine's state). Key names are compared, not indices, so the
    /// result does not depend on the order of either file.
    public func difference(to fresh: Registry) -> RegistryChange {
        var change = RegistryChange()
        change.meters = fresh.count
        guard let fx = fresh.index, let ox = index else { return change }
        var matched = 0
        for j in 0..<fresh.count {
            let lo = Int(fx.offsets[j]), hi = Int(fx.offsets[j + 1])
            guard let i = ox.lookup(UnsafeRawBufferPointer(start: fx.bytes + lo, count: hi - lo)) else { continue }
            matched += 1
            let a = profiles[Int(ox.profile[i])], b = fresh.profiles[Int(fx.profile[j])]
            func same(_ level: Level) -> Bool {
                let ka = a.key(level), kb = b.key(level)
                if ka < 0 || kb < 0 { return ka == kb }
                return keyNames[level.rawValue][Int(ka)] == fresh.keyNames[level.rawValue][Int(kb)]
            }
            if a.region != b.region || !same(.city) || !same(.park) || !same(.enterprise) || !same(.industry) || ox.maxKW[i] != fx.maxKW[j] {
                change.changed += 1
            }
        }
        change.added = fresh.count - matched
        change.removed = liveCount - matched
        return change
    }
}
