import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// The dual-control records `x`, `o`, `c` (reference §9.1): parsing, engine state, checkpoint.
@Suite struct DualRecordTests {
    func parse(_ line: String) -> (ParseOutcome, ParsedRecord, key: String, unit: String) {
        let p = LineParser(registry: try! Registry(csv: Harness.defaultRegistry, origin: "t"))
        var rec = ParsedRecord()
        var line = line
        let o = line.withUTF8 { p.parse(UnsafeRawBufferPointer($0), into: &rec) }
        return (o, rec, p.names.key, p.names.unit)
    }

    func reason(_ line: String) -> RejectReason? {
        if case .rejected(let r) = parse(line).0 { return r }
        return nil
    }

    static let t0 = Harness.t("2026-11-18T10:00:00+08:00")
    static let t1 = Harness.t("2026-11-18T11:00:00+08:00")

    @Test func csvAndJSONCarryTheSameExchange() {
        let a = parse("x,CN-SC,CN-CQ,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,1200.5")
        let b = parse(#"{"kind":"x","from":"CN-SC","to":"CN-CQ","start":"2026-11-18T10:00:00+08:00","end":1794970800,"mwh":"1200.5"}"#)
        for r in [a, b] {
            guard case .record = r.0 else { Issue.record("not parsed"); continue }
            #expect(r.1.kind == .exchange && r.1.region == Int32(Region.index(of: "CN-SC")!) && r.1.region2 == Int32(Region.index(of: "CN-CQ")!))
            #expect(r.1.t0 == Self.t0 && r.1.t1 == Self.t1 && r.1.value == 1200.5)
        }
    }

    @Test func csvAndJSONCarryTheSameOutput() {
        let a = parse("o,enterprise,ENT-001,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,1520,t")
        let b = parse(#"{"kind":"o","level":"enterprise","key":"ENT\u002d001","start":1794967200,"end":"2026-11-18T11:00:00+08:00","value":1520,"unit":"t","extra":[1,2]}"#)
        for r in [a, b] {
            guard case .record = r.0 else { Issue.record("not parsed"); continue }
            #expect(r.1.kind == .output && r.1.aux == UInt8(Level.enterprise.rawValue))
            #expect(r.1.t0 == Self.t0 && r.1.t1 == Self.t1 && r.1.value == 1520)
            #expect(r.key == "ENT-001" && r.unit == "t")
        }
        let p = parse("o,province,CN-GD,2026-07-01T00:00:00+08:00,2026-10-01T00:00:00+08:00,3412000,cny_10k")
        guard case .record = p.0 else { Issue.record("province output not parsed"); return }
        #expect(p.key == "CN-GD" && p.unit == "cny_10k" && p.1.aux == UInt8(Level.province.rawValue))
        guard case .record = parse("o,national,CN,1794967200,1794970800,0,cny_10k").0 else { Issue.record("national output not parsed"); return }
    }

    @Test func csvAndJSONCarryTheSameContract() {
        let a = parse("c,ENT-001,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,350,gpt")
        let b = parse(#"{"kind":"c","enterprise":"ENT-001","start":1794967200,"end":1794970800,"mwh":350,"instrument":"gp\u0074"}"#)
        for r in [a, b] {
            guard case .record = r.0 else { Issue.record("not parsed"); continue }
            #expect(r.1.kind == .contract && r.1.aux == UInt8(Instrument.gpt.rawValue))
            #expect(r.1.t0 == Self.t0 && r.1.t1 == Self.t1 && r.1.value == 350 && r.key == "ENT-001")
        }
        let g = parse("c,E2,1794967200,1794970800,0,gec")
        #expect(g.1.aux == UInt8(Instrument.gec.rawValue))
    }

    static let s = "2026-11-18T10:00:00+08:00", e = "2026-11-18T11:00:00+08:00"

    /// Every reason an `x`, `o` or `c` line can be rejected for.
    @Test(arguments: [
        ("x,CN-SC,CN-CQ,\(s),\(e)", RejectReason.badFieldCount),
        ("x,CN-SC,CN-CQ,\(s),\(e),1,2", .badFieldCount),
        ("x,CN,CN-CQ,\(s),\(e),1", .badRegion),
        ("x,CN-SC,CN-ZZ,\(s),\(e),1", .badRegion),
        ("x,CN-SC,CN-SC,\(s),\(e),1", .badRegion),
        ("x,CN-SC,CN-CQ,today,\(e),1", .badTimestamp),
        ("x,CN-SC,CN-CQ,\(s),\(e),lots", .badNumber),
        ("x,CN-SC,CN-CQ,\(s),\(e),1e15", .badNumber),
        ("x,CN-SC,CN-CQ,\(e),\(s),1", .badInterval),
        ("x,CN-SC,CN-CQ,\(s),\(e),-1", .negativeEnergy),
        ("o,province,CN-GD,\(s),\(e),1", .badFieldCount),
        ("o,county,X1,\(s),\(e),1,t", .badLevel),
        ("o,meter,A,\(s),\(e),1,t", .badLevel),
        ("o,enterprise,bad key,\(s),\(e),1,t", .badKey),
        ("o,enterprise,,\(s),\(e),1,t", .badKey),
        ("o,province,CN-ZZ,\(s),\(e),1,cny_10k", .badKey),
        ("o,province,CN,\(s),\(e),1,cny_10k", .badKey),
        ("o,national,CN-GD,\(s),\(e),1,cny_10k", .badKey),
        ("o,park,P1,\(s),yesterday,1,t", .badTimestamp),
        ("o,park,P1,\(s),\(e),NaN,t", .badNumber),
        ("o,park,P1,\(s),\(e),-3,t", .badNumber),
        ("o,park,P1,\(s),\(s),3,t", .badInterval),
        ("o,park,P1,\(s),\(e),3,", .badUnit),
        ("o,park,P1,\(s),\(e),3,10k yuan", .badUnit),
        ("c,E1,\(s),\(e),5", .badFieldCount),
        ("c,E 1,\(s),\(e),5,gpt", .badKey),
        ("c,E1,\(s),2026-11-18,5,gpt", .badTimestamp),
        ("c,E1,\(s),\(e),five,gpt", .badNumber),
        ("c,E1,\(e),\(s),5,gpt", .badInterval),
        ("c,E1,\(s),\(e),-5,gpt", .negativeEnergy),
        ("c,E1,\(s),\(e),5,ppa", .badInstrument),
        ("c,E1,\(s),\(e),5,GPT", .badInstrument),
        ("{\"kind\":\"x\",\"from\":\"CN-SC\",\"start\":1794967200,\"end\":1794970800,\"mwh\":1}", .badFieldCount),
        ("{\"kind\":\"o\",\"level\":\"park\",\"key\":\"P1\",\"start\":1794967200,\"end\":1794970800,\"value\":1}", .badFieldCount),
        ("{\"kind\":\"c\",\"enterprise\":\"E1\",\"start\":1794967200,\"end\":1794970800,\"mwh\":1}", .badFieldCount),
        ("{\"kind\":\"c\",\"enterprise\":{\"id\":1},\"start\":1794967200,\"end\":1794970800,\"mwh\":1,\"instrument\":\"gec\"}", .badJSON),
        ("{\"kind\":\"o\",\"level\":\"planet\",\"key\":\"P1\",\"start\":1794967200,\"end\":1794970800,\"value\":1,\"unit\":\"t\"}", .badLevel),
        ("{\"kind\":\"c\",\"enterprise\":\"E1\",\"start\":1794967200,\"end\":1794970800,\"mwh\":1,\"instrument\":\"rec\"}", .badInstrument),
        ("z,CN-SC,CN-CQ,\(s),\(e),1", .badKind),
        ("{\"kind\":\"x\",\"from\":[\"CN-SC\"],\"to\":\"CN-CQ\",\"start\":1794967200,\"end\":1794970800,\"mwh\":1}", .badJSON),
        ("{\"kind\":\"o\",\"level\":\"park\",\"key\":\"P1\",\"start\":1794967200,\"end\":1794970800,\"value\":{\"v\":1},\"unit\":\"t\"}", .badJSON),
    ])
    func rejectsWithReason(_ line: String, _ expected: RejectReason) {
        #expect(reason(line) == expected, "\(line)")
    }

    static let lines = [
        "x,CN-SC,CN-CQ,\(s),\(e),200",
        "x,CN-SC,CN-CQ,\(s),\(e),250",                                   // exact repeat: replaces
        "x,CN-SC,CN-CQ,2026-11-18T10:30:00+08:00,2026-11-18T11:30:00+08:00,50",   // overlap: kept
        "o,enterprise,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,1500,t",
        "o,enterprise,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,1520,t",  // replaces
        "o,enterprise,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,800,cny_10k",
        "o,province,CN-GD,2026-07-01T00:00:00+08:00,2026-10-01T00:00:00+08:00,3412000,cny_10k",
        "c,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,350,gpt",
        "c,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,300,gpt",        // replaces
        "c,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,40,gec",
        "c,E1,2026-11-15T00:00:00+08:00,2026-12-15T00:00:00+08:00,10,gpt",         // overlap: kept
        "c,E1,2026-11-15T00:00:00+08:00,2026-12-15T00:00:00+08:00,10,ppa",         // rejected
    ]

    @Test func engineHoldsCountsAndReplaces() {
        let h = Harness().feed(Self.lines, finish: false)
        #expect(h.engine.counts.accepted == 11 && h.engine.counts.rejected == 1)
        #expect(h.engine.acceptedByKind.exchange == 3 && h.engine.acceptedByKind.output == 4 && h.engine.acceptedByKind.contract == 4)
        let x = h.engine.exchanges
        #expect(x.count == 2 && x[0].mwh == 250 && x[1].mwh == 50)
        let o = h.engine.dual.outputs
        #expect(o.count == 3 && o[0].value == 1520 && o[0].unit == "t" && o[1].unit == "cny_10k" && o[2].level == .province)
        let c = h.engine.dual.contracts
        #expect(c.count == 3 && c[0].mwh == 300 && c[1].instrument == .gec && c[2].mwh == 10)
        // They never move the watermark.
        #expect(h.engine.watermark == Time.distantPast)
    }

    @Test func checkpointRoundTrip() throws {
        let h = Harness().feed(Self.lines + ["m,CN-SC,\(Self.s),\(Self.e),hydro,900"], finish: false)
        let bytes = h.engine.checkpoint()
        let r = Harness()
        try r.engine.restore(from: bytes)
        #expect(r.engine.checkpoint() == bytes)
        #expect(r.engine.dual == h.engine.dual)
        #expect(r.engine.exchanges.map(\.mwh) == [250, 50])
        // A repeat after the restore still replaces (the indexes were rebuilt).
        r.feed(["c,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,299,gpt"], finish: false)
        #expect(r.engine.dual.contracts.count == 3 && r.engine.dual.contracts[0].mwh == 299)
    }

    /// `bytes` (version 4 holding no §9.1 records) as version 3 wrote it: the empty `DUAL` section
    /// (its tag and three zero counts) cut, version, length and CRC redone.
    static func withoutDual(_ bytes: [UInt8]) -> [UInt8] {
        let tag: [UInt8] = Array("DUAL".utf8) + [0, 0, 0, 0]
        var at = EngineCheckpointFormat.headerSize
        while !bytes[at..<(at + 8)].elementsEqual(tag) { at += 1 }
        precondition(bytes[(at + 8)..<(at + 32)].allSatisfy { $0 == 0 }, "DUAL section not empty")
        var b = Array(bytes[..<at]) + Array(bytes[(at + 32)...])
        b[8] = 3
        let length = UInt64(b.count - EngineCheckpointFormat.headerSize)
        withUnsafeBytes(of: length.littleEndian) { for i in 0..<8 { b[16 + i] = $0[i] } }
        return CheckpointTests.resealed(b)
    }

    /// A version 3 checkpoint (no `DUAL` section) still restores, with no §9.1 records.
    @Test func version3CheckpointStillRestores() throws {
        let h = Harness().feed(["f,CN-GD,\(Self.s),\(Self.e),0.5", "r,A,\(Self.s),10"], finish: false)
        let v4 = h.engine.checkpoint()
        let v3 = Self.withoutDual(v4)
        #expect(v3[8] == 3 && v3.count == v4.count - 32)
        let r = Harness()
        try r.engine.restore(from: v3)
        #expect(r.engine.checkpoint() == v4)
        #expect(r.engine.counts.accepted == 2)
    }
}

extension DualRecordTests {
    /// The §9.1 field names are unknown keys in the other records: whatever they hold is ignored,
    /// as before they were fields.
    @Test func dualFieldNamesStayUnknownKeysElsewhere() {
        let r = parse(#"{"kind":"r","meter":"A","ts":1794967200,"kwh":1,"value":{"raw":7},"unit":[1],"key":"x","from":{}}"#)
        guard case .record = r.0 else { Issue.record("rejected: \(r.0)"); return }
        #expect(r.1.kind == .register && r.1.value == 1)
    }
}
