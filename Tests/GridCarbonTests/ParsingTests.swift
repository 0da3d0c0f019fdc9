import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

@Suite struct ParsingTests {
    func ts(_ s: String) -> Micros? {
        var s = s
        return s.withUTF8 { ByteParsing.timestamp(UnsafeRawBufferPointer($0)) }
    }
    func num(_ s: String) -> Double? {
        var s = s
        return s.withUTF8 { ByteParsing.number(UnsafeRawBufferPointer($0)) }
    }

    @Test func timestampSpellingsOfOneInstant() {
        let a = ts("2026-11-20T10:15:00+08:00")
        #expect(a == Micros(1_795_140_900_000_000))
        #expect(ts("2026-11-20T02:15:00Z") == a)
        #expect(ts("2026-11-20T02:15:00z") == a)
        #expect(ts("2026-11-20t02:15:00+00:00") == a)
        #expect(ts("2026-11-19T21:15:00-05:00") == a)
        #expect(ts("1795140900") == a)
        #expect(ts("2026-11-20T10:15:00.000+08:00") == a)
        #expect(ts("2026-11-20T10:15:00.5+08:00") == a! + 500_000)
        #expect(ts("2026-11-20T10:15:00.123456789+08:00") == a! + 123_456)
    }

    @Test(arguments: [
        "", "2026-11-20", "2026-11-20T10:15+08:00", "2026-11-20T10:15:00", "2026-11-20 10:15:00+08:00",
        "2026-13-20T10:15:00+08:00", "2026-02-29T10:15:00+08:00", "2026-11-31T10:15:00+08:00",
        "2026-11-20T24:00:00+08:00", "2026-11-20T10:60:00+08:00", "2026-11-20T10:15:60+08:00",
        "2026-11-20T10:15:00+0800", "2026-11-20T10:15:00.+08:00", "2026-11-20T10:15:00+08:00x",
        "1763604900.5", "17636049x0", "-", "abc", "2026-11-20T10:15:00+24:00", "１７６３６０４９００",
    ])
    func badTimestamps(_ s: String) {
        #expect(ts(s) == nil)
    }

    @Test func leapDay() {
        #expect(ts("2024-02-29T00:00:00Z") != nil)
        #expect(ts("2000-02-29T00:00:00Z") != nil)
        #expect(ts("1900-02-29T00:00:00Z") == nil)
    }

    @Test func numbers() {
        #expect(num("1012.50") == 1012.5)
        #expect(num("0") == 0)
        #expect(num("-3.25") == -3.25)
        #expect(num("+7") == 7)
        #expect(num(".5") == 0.5)
        #expect(num("5.") == 5)
        #expect(num("1e3") == 1000)
        #expect(num("2.5E-2") == 0.025)
        #expect(num("0.1") == 0.1)
        #expect(num("123456789012345678901234567890") == 123456789012345678901234567890.0)
        #expect(num("0.30000000000000004") == 0.30000000000000004)
        for s in ["", "-", ".", "nan", "inf", "1e", "1e+", "0x10", "1,5", "1.2.3", "--1", "1e999", " 1", "1 "] {
            #expect(num(s) == nil, "\(s)")
        }
    }

    @Test func numbersAreCorrectlyRounded() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<20000 {
            let intPart = rng.next() % 100_000_000
            let frac = rng.next() % 1_000_000
            let s = "\(intPart).\(String(repeating: "0", count: 6 - String(frac).count))\(frac)"
            #expect(num(s) == Double(s), "\(s)")
        }
    }

    func parse(_ line: String, registry: Registry = try! Registry(csv: Harness.defaultRegistry, origin: "t")) -> (ParseOutcome, ParsedRecord) {
        let p = LineParser(registry: registry)
        var rec = ParsedRecord()
        var line = line
        let o = line.withUTF8 { p.parse(UnsafeRawBufferPointer($0), into: &rec) }
        return (o, rec)
    }

    func reason(_ line: String) -> RejectReason? {
        if case .rejected(let r) = parse(line).0 { return r }
        return nil
    }

    @Test func csvAndJSONCarryTheSameRecord() {
        let (o1, r1) = parse("r,A,2026-11-20T10:15:00+08:00,12.5")
        let (o2, r2) = parse(#"{"kind":"r","meter":"A","ts":"2026-11-20T10:15:00+08:00","kwh":12.5}"#)
        let (o3, r3) = parse(#"{ "kwh": "12.5", "ts": 1795140900, "meter": "A", "kind": "r", "seq": 17 }"#)
        guard case .record = o1, case .record = o2, case .record = o3 else { Issue.record("not parsed"); return }
        for r in [r2, r3] {
            #expect(r.kind == r1.kind && r.meter == r1.meter && r.t0 == r1.t0 && r.value == r1.value)
        }
        let (o4, r4) = parse(#"{"kind":"m","region":"CN-YN","start":"2026-11-18T10:00:00+08:00","end":"2026-11-18T12:00:00+08:00","source":"hydro","mwh":900}"#)
        guard case .record = o4 else { Issue.record("m not parsed"); return }
        #expect(r4.kind == .mix && r4.source == .hydro && r4.value == 900)
        if case .skip = parse("").0 {} else { Issue.record("blank not skipped") }
        if case .skip = parse("# comment").0 {} else { Issue.record("comment not skipped") }
        if case .skip = parse("   \r").0 {} else { Issue.record("whitespace not skipped") }
        if case .record = parse("r,A,1763604900,1\r").0 {} else { Issue.record("CRLF not accepted") }
    }

    /// A corpus of malformed lines, each with the reason it must be rejected for.
    @Test(arguments: [
        ("z,A,1763604900,1", RejectReason.badKind),
        ("r", .badKind),
        ("rr,A,1763604900,1", .badKind),
        ("r,A,1763604900", .badFieldCount),
        ("r,A,1763604900,1,2", .badFieldCount),
        ("i,A,1763604900,1763605800", .badFieldCount),
        ("m,CN-GD,1763604900,1763605800,coal", .badFieldCount),
        ("r,A B,1763604900,1", .badMeterID),
        ("r,,1763604900,1", .badMeterID),
        ("r,\(String(repeating: "x", count: 65)),1763604900,1", .badMeterID),
        ("r,M9,1763604900,1", .unknownMeter),
        ("r,A,yesterday,1", .badTimestamp),
        ("r,A,2026-11-20T10:15:00,1", .badTimestamp),
        ("r,A,1763604900,not-a-number", .badNumber),
        ("r,A,1763604900,", .badNumber),
        ("r,A,1763604900,nan", .badNumber),
        ("r,A,1763604900,-1", .negativeEnergy),
        ("i,A,1763605800,1763604900,1", .badInterval),
        ("i,A,1763604900,1763604900,1", .badInterval),
        ("i,A,1763604900,1763605800,-0.5", .negativeEnergy),
        ("f,CN,1763604900,1763605800,0.5", .badRegion),
        ("f,CN-ZZ,1763604900,1763605800,0.5", .badRegion),
        ("f,CN-GD,1763604900,1763605800,11", .badFactor),
        ("f,CN-GD,1763604900,1763605800,-0.1", .badFactor),
        ("m,CN-GD,1763604900,1763605800,peat,5", .badSource),
        ("m,CN-GD,1763604900,1763605800,coal,-5", .negativeEnergy),
        ("{\"kind\":\"r\",\"meter\":\"A\",\"ts\":1763604900}", .badFieldCount),
        ("{\"kind\":\"q\"}", .badKind),
        ("{\"meter\":\"A\"}", .badKind),
        ("{\"kind\":\"r\",\"meter\":\"A\",\"ts\":1763604900,\"kwh\":1", .badJSON),
        ("{\"kind\":\"r\",\"meter\":{\"id\":1},\"ts\":1763604900,\"kwh\":1}", .badJSON),
        ("{\"kind\":\"r\",\"meter\":\"A\",\"ts\":1763604900,\"kwh\":1} trailing", .badJSON),
        ("{kind:r}", .badJSON),
        ("{\"kind\":\"r\",\"meter\":\"A\\u0041\",\"ts\":1763604900,\"kwh\":1}", .unknownMeter),
        ("\u{FEFF}r,A,1763604900,1", .badKind),
    ])
    func rejectsWithReason(_ line: String, _ expected: RejectReason) {
        #expect(reason(line) == expected, "\(line)")
    }
}

/// A small deterministic PRNG for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
