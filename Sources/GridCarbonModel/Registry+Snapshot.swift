/// The registry as bytes, exactly (meter order, retired meters, key and profile numbering), so a
/// checkpoint taken after live reloads restores with the registry that was in force, whatever the
/// registry file on disk says by then.
///
/// Layout, little-endian, 64-bit integers unless said otherwise:
/// `"GCREGS01"`, meter level (0/1), live count, meter count; per level (``Level`` raw order) the
/// name count and per name its byte length and UTF-8 bytes; the profile count and per profile
/// region, city, park, enterprise, industry, meter (i32 each); the id byte count and the id
/// bytes; per meter the end offset of its id (i32), its profile (i32) and max_kw (f64); then a
/// ``FoldHash`` of everything before it.
extension Registry {
    static let snapshotMagic = Array("GCREGS01".utf8)

    /// The registry as bytes (see the extension's documentation); ``init(snapshot:)`` reads them back.
    public func snapshot() -> [UInt8] {
        var out = ByteWriter(Self.snapshotMagic)
        out.i64(meterLevel ? 1 : 0); out.i64(Int64(liveCount)); out.i64(Int64(count))
        for names in keyNames {
            out.i64(Int64(names.count))
            for n in names { out.string(n) }
        }
        out.i64(Int64(profiles.count))
        for p in profiles { for v in [p.region, p.city, p.park, p.enterprise, p.industry, p.meter] { out.i32(v) } }
        let ix = index!
        let bytes = Int(ix.offsets[count])
        out.i64(Int64(bytes))
        out.bytes(UnsafeRawBufferPointer(start: ix.bytes, count: bytes))
        for m in 0..<count {
            out.i32(ix.offsets[m + 1]); out.i32(ix.profile[m]); out.f64(ix.maxKW[m])
        }
        var h = FoldHash()
        out.bytes.withUnsafeBytes { h.add($0) }
        out.u64(h.value)
        return out.bytes
    }

    /// Reads ``snapshot()`` bytes back; throws naming what is wrong when they are damaged.
    public init(snapshot bytes: [UInt8]) throws(TableError) {
        func bad(_ why: String) -> TableError { TableError(.corrupt, file: "registry snapshot", line: 0, message: why) }
        guard bytes.count >= 24, bytes.prefix(8).elementsEqual(Self.snapshotMagic) else { throw bad("not a registry snapshot") }
        let body = bytes.count - 8
        var h = FoldHash()
        bytes.withUnsafeBytes { h.add(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        let stored = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: body, as: UInt64.self)) }
        guard stored == h.value else { throw bad("checksum mismatch") }
        let level = bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: Int64.self)) }
        self.init(meterLevel: level == 1)
        index = nil
        do {
            try bytes.withUnsafeBytes { all in
                var r = ByteReader(UnsafeRawBufferPointer(rebasing: all[0..<body]), from: 16, context: "registry snapshot")
                try readSnapshot(&r)
            }
        } catch let e as TableError {
            throw e
        } catch {
            throw bad("\(error)")
        }
    }

    /// The fields after the magic and the meter level, up to the checksum.
    private mutating func readSnapshot(_ r: inout ByteReader) throws {
        func bad(_ why: String) -> TableError { TableError(.corrupt, file: "registry snapshot", line: 0, message: why) }
        let live = try r.count(each: 16, "live meters"), n = try r.count(each: 16, "meters")
        guard live <= n else { throw bad("\(live) live meters of \(n)") }
        var names: [[String]] = []
        for level in Level.allCases {
            let k = try r.count(each: 8, "\(level.name) key names")
            var list: [String] = []
            list.reserveCapacity(k)
            for i in 0..<k { list.append(try r.string("\(level.name) key name \(i)")) }
            names.append(list)
        }
        guard names[Level.national.rawValue] == ["CN"], names[Level.province.rawValue] == Region.codes else {
            throw bad("national or province keys differ from this build's region codes")
        }
        keyNames = names
        let np = try r.count(each: 24, "profiles")
        for i in 0..<np {
            let p = Profile(region: try r.i32("profile \(i) region"), city: try r.i32("profile \(i) city"), park: try r.i32("profile \(i) park"),
                            enterprise: try r.i32("profile \(i) enterprise"), industry: try r.i32("profile \(i) industry"), meter: try r.i32("profile \(i) meter"))
            for level in Level.allCases where level != .national {
                let k = p.key(level)
                guard k >= -1 && Int(k) < names[level.rawValue].count, level != .province || k >= 0 else {
                    throw bad("profile key \(k) of level \(level.name) outside its \(names[level.rawValue].count) names")
                }
            }
            guard Int(p.region) != Region.national else { throw bad("profile in the national region") }
            profiles.append(p)
        }
        let ids = try r.bytes(try r.count(each: 1, "id bytes"), "meter ids")
        guard n <= r.remaining / 16 else { throw bad("\(n) meters do not fit") }
        rebuildTable(capacity: max(16, live * 2))
        var start = 0
        for m in 0..<n {
            let end = Int(try r.i32("meter \(m) id end")), p = try r.i32("meter \(m) profile"), kw = try r.f64("meter \(m) max_kw")
            guard end > start && end <= ids.count && end - start <= 64 else { throw bad("meter \(m) id bounds \(start)..<\(end)") }
            guard p >= 0 && Int(p) < profiles.count else { throw bad("meter \(m) profile \(p) of \(profiles.count)") }
            let id = UnsafeRawBufferPointer(rebasing: ids[start..<end])
            if m < live && lookup(id) != nil { throw bad("meter \(m) listed twice") }
            appendMeter(id: id, region: UInt8(profiles[Int(p)].region), profile: p, maxKW: kw, findable: m < live)
            start = end
        }
        guard start == ids.count else { throw bad("meter ids end at byte \(start) of \(ids.count)") }
        try r.expectEnd("the last meter")
        freeze()
    }
}
