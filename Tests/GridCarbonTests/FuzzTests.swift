import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// A seeded random mutator over a corpus of good lines: no crash, every line accounted for exactly
/// once, and whatever parses satisfies the record invariants.
@Suite struct FuzzTests {
    static let corpus = [
        "r,A,2026-11-18T10:15:00+08:00,1012.50",
        "r,B,1794967200,500.00",
        "r,C,2026-11-18T02:00:00Z,20.00",
        "i,T,2026-11-18T10:00:00+08:00,2026-11-18T10:30:00+08:00,3.0",
        "f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:20:00+08:00,0.52",
        "m,CN-YN,2026-11-18T10:00:00+08:00,2026-11-18T12:00:00+08:00,hydro,900",
        #"{"kind":"r","meter":"A","ts":"2026-11-18T10:30:00.25+08:00","kwh":1025}"#,
        #"{"kind":"i","meter":"B","start":1794967200,"end":1794968100,"kwh":"2.5"}"#,
        #"{"kind":"m","region":"CN-GD","start":"2026-11-18T10:00:00+08:00","end":"2026-11-18T11:00:00+08:00","source":"coal","mwh":1e3}"#,
        "x,CN-SC,CN-CQ,2026-11-18T10:00:00+08:00,2026-11-18T11:00:00+08:00,1200.5",
        "o,enterprise,E1,2026-11-01T00:00:00+08:00,2026-12-01T00:00:00+08:00,1520,t",
        #"{"kind":"c","enterprise":"E1","start":1794967200,"end":1794968100,"mwh":"2.5","instrument":"gec"}"#,
    ]

    func mutate(_ line: [UInt8], _ rng: inout SplitMix) -> [UInt8] {
        var b = line
        let alphabet: [UInt8] = Array(",.-+:TZe{}\"\\0123456789 \r\tabcrifm".utf8) + [0, 0xFF, 0xC3, 0x80]
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let op = rng.next() % 7
            let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch op {
            case 0 where !b.isEmpty: b[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            case 1 where !b.isEmpty: b.remove(at: at)
            case 2: b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
            case 3: b = Array(b.prefix(at))
            case 4 where !b.isEmpty:
                let len = min(b.count - at, Int(rng.next() % 12))
                b.insert(contentsOf: b[at..<(at + len)], at: at)
            case 5: b[at...].reverse()
            default: b.append(contentsOf: Self.corpus[Int(rng.next() % UInt64(Self.corpus.count))].utf8.prefix(Int(rng.next() % 20)))
            }
        }
        return b.filter { $0 != 0x0A }
    }

    @Test func parserSurvivesMutationsAndKeepsInvariants() {
        let registry = try! Registry(csv: Harness.defaultRegistry, origin: "t")
        let parser = LineParser(registry: registry)
        var rng = SplitMix(seed: 2026)
        var parsed = 0, rejected = 0
        for i in 0..<300_000 {
            let line = mutate(Array(Self.corpus[i % Self.corpus.count].utf8), &rng)
            var rec = ParsedRecord()
            let outcome = line.withUnsafeBytes { parser.parse($0, into: &rec) }
            switch outcome {
            case .record:
                parsed += 1
                #expect(rec.value.isFinite && rec.value >= 0)
                switch rec.kind {
                case .register: #expect(rec.meter >= 0 && Int(rec.meter) < registry.count)
                case .interval: #expect(rec.meter >= 0 && rec.t1 > rec.t0)
                case .factor: #expect(rec.region > 0 && rec.t1 > rec.t0 && rec.value <= 10)
                case .mix: #expect(rec.region > 0 && rec.t1 > rec.t0)
                case .exchange: #expect(rec.region > 0 && rec.region2 > 0 && rec.region != rec.region2 && rec.t1 > rec.t0)
                case .output: #expect(Level(rawValue: Int(rec.aux)) != nil && rec.aux != UInt8(Level.meter.rawValue) && rec.t1 > rec.t0 && !parser.names.key.isEmpty && parser.names.key.utf8.allSatisfy(Identifier.isValidByte))
                case .contract: #expect(Instrument(rawValue: Int(rec.aux)) != nil && rec.t1 > rec.t0 && !parser.names.key.isEmpty)
                }
            case .rejected: rejected += 1
            case .skip: break
            }
        }
        // The mutator must exercise both sides, or it tests nothing.
        #expect(parsed > 5_000 && rejected > 200_000, "parsed \(parsed), rejected \(rejected)")
    }

    /// The word-at-a-time comma search agrees with a plain split, whatever sits next to the commas.
    @Test func fieldSplitAgreesWithPlainSplit() {
        let registry = try! Registry(csv: Harness.defaultRegistry, origin: "t")
        let parser = LineParser(registry: registry)
        var rng = SplitMix(seed: 5)
        let pieces = ["A", "B", "1795140900", "1795141800", "-0.1", "0.5", ",", ",,", "+", "-", "\u{2C}", "12.5", "CN-GD", "coal", "x"]
        for _ in 0..<50_000 {
            var line = ["r", "i", "f", "m"][Int(rng.next() % 4)]
            for _ in 0..<(1 + Int(rng.next() % 6)) { line += "," + pieces[Int(rng.next() % UInt64(pieces.count))] }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).count - 1
            let want = ["r": 3, "i": 4, "f": 4, "m": 5][String(line.first!)]!
            var rec = ParsedRecord()
            var copy = line
            let outcome = copy.withUTF8 { parser.parse(UnsafeRawBufferPointer($0), into: &rec) }
            if case .rejected(.badFieldCount) = outcome {
                #expect(fields != want, "\(line)")
            } else {
                #expect(fields == want, "\(line)")
            }
        }
    }

    @Test func engineAccountsForEveryMutatedLine() {
        var rng = SplitMix(seed: 7)
        var lines: [String] = []
        let registry = try! Registry(csv: Harness.defaultRegistry, origin: "t")
        let parser = LineParser(registry: registry)
        for i in 0..<50_000 {
            lines.append(String(decoding: mutate(Array(Self.corpus[i % Self.corpus.count].utf8), &rng), as: UTF8.self))
        }
        let h = Harness()
        var text = lines.joined(separator: "\n") + "\n"
        // Feed the bytes as they are (String(decoding:) may have replaced invalid UTF-8; count from it).
        var line: Int64 = 1
        var recordLines = 0
        text.withUTF8 { p in
            var start = 0
            for i in 0..<p.count where p[i] == 0x0A {
                var rec = ParsedRecord()
                if case .skip = parser.parse(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[start..<i]), into: &rec) {} else { recordLines += 1 }
                start = i + 1
            }
            _ = h.engine.ingest(UnsafeRawBufferPointer(p), source: 0, line: &line)
        }
        h.engine.finish()
        #expect(h.engine.counts.total == recordLines)
        #expect(h.sink.rejected.count == h.engine.counts.rejected)
        #expect(h.sink.late.count == h.engine.counts.late)
        #expect(h.engine.pendingCount == 0)
    }
}
