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
        var out = Self.snapshotMagic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(Int64(meterLevel ? 1 : 0)); put(Int64(liveCount)); put(Int64(count))
        for names in keyNames {
            put(Int64(names.count))
            for n in names { put(Int64(n.utf8.count)); out.append(contentsOf: n.utf8) }
        }
        put(Int64(profiles.count))
        for p in profiles { for v in [p.region, p.city, p.park, p.enterprise, p.industry, p.meter] { put(v) } }
        let ix = index!
        let bytes = Int(ix.offsets[count])
        put(Int64(bytes))
        out.append(contentsOf: UnsafeBufferPointer(start: ix.bytes, count: bytes))
        for m in 0..<count {
            put(ix.offsets[m + 1]); put(ix.profile[m]); put(ix.maxKW[m].bitPattern)
        }
        var h = FoldHash()
        out.withUnsafeBytes { h.add($0) }
        put(h.value)
        return out
    }

    /// Reads ``snapshot()`` bytes back; throws naming what is wrong when they are damaged.
    public init(snapshot bytes: [UInt8]) throws(TableError) {
        func bad(_ why: String) -> TableError { TableError(.corrupt, file: "registry snapshot", line: 0, message: why) }
        guard bytes.count >= 16, bytes.prefix(8).elementsEqual(Self.snapshotMagic) else { throw bad("not a registry snapshot") }
        var at = 8
        let body = bytes.count - 8
        func i64() throws(TableError) -> Int64 {
            guard at + 8 <= body else { throw bad("truncated at byte \(at)") }
            defer { at += 8 }
            return bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: Int64.self)) }
        }
        func i32() throws(TableError) -> Int32 {
            guard at + 4 <= body else { throw bad("truncated at byte \(at)") }
            defer { at += 4 }
            return bytes.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: Int32.self)) }
        }
        func count(_ what: String, each: Int) throws(TableError) -> Int {
            let v = try i64()
            guard v >= 0 && v <= Int64((body - at) / max(each, 1)) else { throw bad("\(v) \(what) do not fit") }
            return Int(v)
        }
        var h = FoldHash()
        bytes.withUnsafeBytes { h.add(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        let stored = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: body, as: UInt64.self)) }
        guard stored == h.value else { throw bad("checksum mismatch") }

        let level = try i64()
        self.init(meterLevel: level == 1)
        index = nil
        let live = try count("live meters", each: 16), n = try count("meters", each: 16)
        guard live <= n else { throw bad("\(live) live meters of \(n)") }
        var names: [[String]] = []
        for _ in Level.allCases {
            let k = try count("key names", each: 8)
            var level: [String] = []
            level.reserveCapacity(k)
            for _ in 0..<k {
                let len = try count("name bytes", each: 1)
                level.append(String(decoding: bytes[at..<(at + len)], as: UTF8.self))
                at += len
            }
            names.append(level)
        }
        guard names[Level.national.rawValue] == ["CN"], names[Level.province.rawValue] == Region.codes else {
            throw bad("national or province keys differ from this build's region codes")
        }
        keyNames = names
        let np = try count("profiles", each: 24)
        for _ in 0..<np {
            let p = Profile(region: try i32(), city: try i32(), park: try i32(), enterprise: try i32(), industry: try i32(), meter: try i32())
            for level in Level.allCases where level != .national {
                let k = p.key(level)
                guard k >= -1 && Int(k) < names[level.rawValue].count, level != .province || k >= 0 else {
                    throw bad("profile key \(k) of level \(level.name) outside its \(names[level.rawValue].count) names")
                }
            }
            guard Int(p.region) != Region.national else { throw bad("profile in the national region") }
            profiles.append(p)
        }
        let idBytesCount = try count("id bytes", each: 1)
        let ids = Array(bytes[at..<(at + idBytesCount)])
        at += idBytesCount
        guard n <= (body - at) / 16 else { throw bad("\(n) meters do not fit") }
        rebuildTable(capacity: max(16, live * 2))
        var start = 0
        for m in 0..<n {
            let end = Int(try i32()), p = try i32(), kw = Double(bitPattern: UInt64(bitPattern: try i64()))
            guard end > start && end <= ids.count && end - start <= 64 else { throw bad("meter \(m) id bounds \(start)..<\(end)") }
            guard p >= 0 && Int(p) < profiles.count else { throw bad("meter \(m) profile \(p) of \(profiles.count)") }
            let failed = ids.withUnsafeBytes { all -> Bool in
                let id = UnsafeRawBufferPointer(rebasing: all[start..<end])
                if m < live && lookup(id) != nil { return true }
                appendMeter(id: id, region: UInt8(profiles[Int(p)].region), profile: p, maxKW: kw, findable: m < live)
                return false
            }
            if failed { throw bad("meter \(m) listed twice") }
            start = end
        }
        guard start == ids.count, at == body else { throw bad("\(body - at) bytes left over") }
        freeze()
    }
}
