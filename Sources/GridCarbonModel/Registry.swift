/// A group of meters that share every aggregation key. Spans are summed per profile and rolled up
/// to keys when windows close, so work per span does not grow with the number of levels.
public struct Profile: Hashable, Sendable {
    public var region: Int32
    public var city: Int32
    public var park: Int32
    public var enterprise: Int32
    public var industry: Int32
    /// The meter's own index when the `meter` level is on, else -1.
    public var meter: Int32

    /// Key index of this profile at a level (-1 when the registry gives none).
    @inlinable
    public func key(_ level: Level) -> Int32 {
        switch level {
        case .national: return 0
        case .province: return region
        case .city: return city
        case .park: return park
        case .enterprise: return enterprise
        case .industry: return industry
        case .meter: return meter
        }
    }
}

/// The meter registry of §2.1, held as flat arrays: at a million meters it costs about 40 bytes a meter.
public struct Registry: Sendable {
    /// Number of meters, retired ones included (see ``liveCount``).
    public internal(set) var count: Int = 0
    /// Number of meters that records may name: meters `0..<liveCount` are the registry file's, in
    /// its order; meters `liveCount..<count` are *retired* by a live reload
    /// (``replaced(by:retain:)``): lookup no longer finds them, they only finish what the engine
    /// already accepted for them. A registry read from a file has none.
    public internal(set) var liveCount: Int = 0
    // While loading: meter id bytes back to back (meter `i` is `idBytes[idOffsets[i]..<idOffsets[i+1]]`),
    // region, profile and max_kw per meter. Once loaded they move into ``index`` (one copy only).
    var idBytes: [UInt8] = []
    var idOffsets: [Int32] = [0]
    var regions: [UInt8] = []
    var profiles_: [Int32] = []
    var maxKWs: [Double] = []
    /// Distinct key combinations.
    public internal(set) var profiles: [Profile] = []
    /// Key names per level (index by ``Level/rawValue``); `national` has `CN`, `province` the region codes.
    public internal(set) var keyNames: [[String]] = []
    /// Open-addressing table of meter index + 1 (0 = empty); holds the live meters only.
    var slots: [Int32] = []
    var mask: Int = 0
    /// Whether the `meter` level is on (each meter is then its own profile).
    public let meterLevel: Bool
    /// The frozen lookup table, built once the registry is loaded (the hot path uses it).
    public internal(set) var index: MeterIndex?

    /// An empty registry.
    public init(meterLevel: Bool = false) {
        self.meterLevel = meterLevel
        keyNames = Level.allCases.map { _ in [] }
        keyNames[Level.national.rawValue] = ["CN"]
        keyNames[Level.province.rawValue] = Region.codes
        rebuildTable(capacity: 16)
        freeze()
    }

    /// Moves the per-meter arrays into the frozen ``MeterIndex``.
    mutating func freeze() {
        // Copy one array at a time and drop it, so a million meters never exist twice over.
        let ix = MeterIndex(count: idOffsets.count - 1, findable: liveCount, slotCount: slots.count, byteCount: idBytes.count)
        ix.slots.initialize(from: slots, count: slots.count); slots = []
        ix.bytes.initialize(from: idBytes, count: idBytes.count); idBytes = []
        ix.offsets.initialize(from: idOffsets, count: idOffsets.count); idOffsets = [0]
        ix.region.initialize(from: regions, count: regions.count); regions = []
        ix.profile.initialize(from: profiles_, count: profiles_.count); profiles_ = []
        ix.maxKW.initialize(from: maxKWs, count: maxKWs.count); maxKWs = []
        index = ix
    }

    /// Profile index of meter `m`.
    public func profile(of m: Int) -> Int32 { index!.profile[m] }
    /// Region index of meter `m`.
    public func region(of m: Int) -> Int { Int(index!.region[m]) }
    /// Plausible maximum demand of meter `m` in kW (`.infinity` when not given).
    public func maxKW(of m: Int) -> Double { index!.maxKW[m] }

    /// Parses the registry CSV `meter_id,region,city,park,enterprise,industry,max_kw`, keeping the
    /// meters of `scope` (every line is checked, and every line's keys and profile are kept, so key
    /// and profile numbers do not depend on the scope; a meter listed twice is found only where it
    /// is kept).
    /// - Throws: ``TableError`` naming the first wrong line; a bad file changes nothing.
    public init(csv bytes: [UInt8], origin: String, meterLevel: Bool = false, scope: MeterScope = .all) throws(TableError) {
        let scope = meterLevel ? MeterScope.all : scope
        self.init(meterLevel: meterLevel)
        index = nil
        var interned: [[String: Int32]] = Level.allCases.map { _ in [:] }
        var profileIndex: [Profile: Int32] = [:]
        var lineNo = 0
        var headerSeen = false
        var start = 0
        let n = bytes.count
        // Pre-size for the line count so a million meters do not regrow the arrays.
        var lines = 0
        for b in bytes where b == 0x0A { lines += 1 }
        switch scope {
        case .all: break
        case .partition(_, let of): lines = lines / max(1, of) + lines / max(1, 8 * of) + 16   // about its share
        case .none: lines = 0
        }
        regions.reserveCapacity(lines); profiles_.reserveCapacity(lines); maxKWs.reserveCapacity(lines)
        idOffsets.reserveCapacity(lines + 1); idBytes.reserveCapacity(lines * 12)
        rebuildTable(capacity: max(16, lines * 2))
        let failure: TableError? = bytes.withUnsafeBytes { (all: UnsafeRawBufferPointer) -> TableError? in
            while start < n {
                var end = start
                while end < n && all[end] != 0x0A { end += 1 }
                lineNo += 1
                var lineEnd = end
                if lineEnd > start && all[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: all[start..<lineEnd])
                start = end + 1
                if line.isEmpty || line[0] == 0x23 { continue }
                var fields: [UnsafeRawBufferPointer] = []
                var fs = 0
                for i in 0...line.count where i == line.count || line[i] == 0x2C {
                    fields.append(UnsafeRawBufferPointer(rebasing: line[fs..<i]))
                    fs = i + 1
                }
                if !headerSeen {
                    let header = String(decoding: line, as: UTF8.self)
                    guard header.hasPrefix("meter_id,region,city,park,enterprise,industry") else {
                        return TableError(.badHeader, file: origin, line: lineNo, message: "expected the header meter_id,region,city,park,enterprise,industry,max_kw")
                    }
                    headerSeen = true
                    continue
                }
                guard fields.count == 6 || fields.count == 7 else {
                    return TableError(file: origin, line: lineNo, message: "expected 7 fields (meter_id,region,city,park,enterprise,industry,max_kw), found \(fields.count)")
                }
                guard Identifier.isValid(fields[0]) else {
                    return TableError(file: origin, line: lineNo, message: "meter_id '\(String(decoding: fields[0], as: UTF8.self))' must match [A-Za-z0-9_.:-]{1,64}")
                }
                guard let r = Region.index(bytes: fields[1]), r != Region.national else {
                    return TableError(file: origin, line: lineNo, message: "region '\(String(decoding: fields[1], as: UTF8.self))' is not a province code such as CN-GD")
                }
                var keys: [Int32] = [-1, -1, -1, -1]
                for (k, level) in [Level.city, .park, .enterprise, .industry].enumerated() {
                    let f = fields[2 + k]
                    if f.isEmpty { continue }
                    let s = String(decoding: f, as: UTF8.self)
                    guard Identifier.isValid(f) else {
                        return TableError(file: origin, line: lineNo, message: "\(level.name) '\(s)' must match [A-Za-z0-9_.:-]{1,64}")
                    }
                    if level == .industry && !Identifier.isIndustryCode(s) {
                        return TableError(file: origin, line: lineNo, message: "industry '\(s)' is not a GB/T 4754 code (a section letter A-T and/or 2-4 digits, e.g. C or C26)")
                    }
                    if let idx = interned[level.rawValue][s] {
                        keys[k] = idx
                    } else {
                        let idx = Int32(keyNames[level.rawValue].count)
                        keyNames[level.rawValue].append(s)
                        interned[level.rawValue][s] = idx
                        keys[k] = idx
                    }
                }
                var kw = Double.infinity
                if fields.count == 7 && !fields[6].isEmpty {
                    let s = String(decoding: fields[6], as: UTF8.self)
                    guard let v = Double(s), v.isFinite, v > 0 else {
                        return TableError(file: origin, line: lineNo, message: "max_kw '\(s)' must be a positive number of kW or empty")
                    }
                    kw = v
                }
                let kept = scope.keeps(fields[0])
                if kept && lookup(fields[0]) != nil {
                    return TableError(.duplicate, file: origin, line: lineNo, message: "meter '\(String(decoding: fields[0], as: UTF8.self))' is listed twice")
                }
                let index = Int32(count)
                var p = Profile(region: Int32(r), city: keys[0], park: keys[1], enterprise: keys[2], industry: keys[3], meter: -1)
                if meterLevel { p.meter = index }
                let pi: Int32
                if let existing = profileIndex[p] { pi = existing } else {
                    pi = Int32(profiles.count)
                    profiles.append(p)
                    profileIndex[p] = pi
                }
                if kept { appendMeter(id: fields[0], region: UInt8(r), profile: pi, maxKW: kw) }
            }
            return nil
        }
        if let failure { throw failure }
        guard headerSeen else { throw TableError(.incomplete, file: origin, line: max(lineNo, 1), message: "empty registry: expected the header meter_id,region,city,park,enterprise,industry,max_kw") }
        freeze()
        if meterLevel {
            keyNames[Level.meter.rawValue] = (0..<count).map { meterID($0) }
        }
    }

    public init(csv text: String, origin: String, meterLevel: Bool = false, scope: MeterScope = .all) throws(TableError) {
        try self.init(csv: Array(text.utf8), origin: origin, meterLevel: meterLevel, scope: scope)
    }

    /// Appends a meter; a `findable` one goes into the lookup table (retired ones, which come after
    /// every findable one, do not).
    mutating func appendMeter(id: UnsafeRawBufferPointer, region r: UInt8, profile: Int32, maxKW kw: Double, findable: Bool = true) {
        precondition(!findable || liveCount == count, "findable meters come before retired ones")
        idBytes.append(contentsOf: id)
        idOffsets.append(Int32(idBytes.count))
        regions.append(r)
        profiles_.append(profile)
        maxKWs.append(kw)
        count += 1
        guard findable else { return }
        liveCount += 1
        if liveCount * 2 > slots.count { rebuildTable(capacity: slots.count * 2) } else { insert(Int32(liveCount - 1)) }
    }

    mutating func rebuildTable(capacity: Int) {
        var cap = 16
        while cap < capacity { cap <<= 1 }
        slots = Array(repeating: 0, count: cap)
        mask = cap - 1
        for i in 0..<liveCount { insert(Int32(i)) }
    }

    private mutating func insert(_ index: Int32) {
        let lo = Int(idOffsets[Int(index)]), hi = Int(idOffsets[Int(index) + 1])
        let h = idBytes.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[lo..<hi])) }
        var s = h & mask
        while slots[s] != 0 { s = (s + 1) & mask }
        slots[s] = index + 1
    }

    /// The meter index of an id given as bytes, or nil when the meter is not in the registry.
    public func lookup(_ id: UnsafeRawBufferPointer) -> Int? {
        if let index { return index.lookup(id) }
        var s = Self.hash(id) & mask
        while true {
            let v = Int(slots[s])
            if v == 0 { return nil }
            let lo = Int(idOffsets[v - 1]), hi = Int(idOffsets[v])
            if hi - lo == id.count && idBytes[lo..<hi].elementsEqual(id) { return v - 1 }
            s = (s + 1) & mask
        }
    }

    public func lookup(_ id: String) -> Int? {
        var id = id
        return id.withUTF8 { lookup(UnsafeRawBufferPointer($0)) }
    }

    /// The id of meter `i`.
    public func meterID(_ i: Int) -> String {
        let ix = index!
        return String(decoding: UnsafeBufferPointer(start: ix.bytes + Int(ix.offsets[i]), count: Int(ix.offsets[i + 1] - ix.offsets[i])), as: UTF8.self)
    }

    /// Appends the id bytes of meter `i`.
    public func appendID(_ i: Int, to out: inout [UInt8]) {
        let ix = index!
        out.append(contentsOf: UnsafeBufferPointer(start: ix.bytes + Int(ix.offsets[i]), count: Int(ix.offsets[i + 1] - ix.offsets[i])))
    }

    /// Number of keys known at a level.
    public func keyCount(_ level: Level) -> Int { keyNames[level.rawValue].count }

    /// 64-bit FNV-1a folded with a multiply; ids are short, so this is a handful of cycles.
    @inlinable
    static func hash(_ p: UnsafeRawBufferPointer) -> Int {
        var f = FoldHash()
        f.add(p)
        return Int(truncatingIfNeeded: f.value)
    }
}
