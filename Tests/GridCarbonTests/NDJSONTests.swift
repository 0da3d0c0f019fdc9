import Foundation
import Testing
@testable import GridCarbonEngine
@testable import GridCarbonModel

/// NDJSON record lines (reference §2.2): unknown keys are ignored whatever they hold, strings may use
/// any JSON escape, and what is not JSON is `bad_json`; checked against Foundation's parser.
@Suite struct NDJSONTests {
    static let registry = try! Registry(csv: """
        meter_id,region,city,park,enterprise,industry,max_kw
        A,CN-GD,SZ,,,C,
        AA,CN-GD,SZ,,,C,
        M-1,CN-YN,KM,,,C,
        """, origin: "t")

    func parse(_ line: String) -> (ParseOutcome, ParsedRecord) {
        let p = LineParser(registry: Self.registry)
        var rec = ParsedRecord()
        var line = line
        let o = line.withUTF8 { p.parse(UnsafeRawBufferPointer($0), into: &rec) }
        return (o, rec)
    }

    func parse(bytes: [UInt8]) -> ParseOutcome {
        let p = LineParser(registry: Self.registry)
        var rec = ParsedRecord()
        return bytes.withUnsafeBytes { p.parse($0, into: &rec) }
    }

    func meter(_ id: String) -> Int32 {
        Int32(Array(id.utf8).withUnsafeBytes { Self.registry.index!.lookup($0, after: -1) }!)
    }

    @Test(arguments: [
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"extra":{"a":[1,2,{"b":"}{]["}],"c":null}}"#,
        #"{"extra":[[],{},[[[[]]]],"\"}"],"kind":"r","meter":"A","ts":1795140900,"kwh":1}"#,
        #"{"kind":"r","x":{"q":"\\\"","r":"{\"kind\":\"i\"}"},"meter":"A","ts":1795140900,"kwh":1}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"tags":[true,false,null,-0.5e+3,"ü😀"]}"#,
        #"{ "kind" : "r" , "meter" : "A" , "ts" : 1795140900 , "kwh" : 1 , "o" : { } , "a" : [ ] }"#,
    ])
    func unknownKeysHoldingNestedValuesAreIgnored(_ line: String) {
        let (o, r) = parse(line)
        guard case .record = o else { Issue.record("\(o) for \(line)"); return }
        #expect(r.kind == .register && r.meter == meter("A") && r.value == 1)
    }

    @Test func nestingToAnyDepth() {
        let depth = 100_000
        let line = #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"deep":"# + String(repeating: "[{\"k\":", count: depth)
            + "\"x\"" + String(repeating: "}]", count: depth) + "}"
        guard case .record = parse(line).0 else { Issue.record("deep nesting not ignored"); return }
        let unbalanced = #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"deep":"# + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth - 1) + "}"
        guard case .rejected(.badJSON) = parse(unbalanced).0 else { Issue.record("unbalanced nesting accepted"); return }
    }

    @Test func escapesAreDecoded() {
        let spellings = [
            #"{"kind":"r","meter":"A\u0041","ts":1795140900,"kwh":2}"#,
            #"{"k\u0069nd":"\u0072","meter":"\u0041A","ts":"1795140900","kwh":"\u0032"}"#,
        ]
        for line in spellings {
            let (o, r) = parse(line)
            guard case .record = o else { Issue.record("\(o) for \(line)"); return }
            #expect(r.meter == meter("AA") && r.value == 2, "\(line)")
        }
        // Escapes of non-ASCII characters decode to UTF-8, which no meter id holds.
        if case .rejected(.badMeterID) = parse(#"{"kind":"r","meter":"\u00e9","ts":1795140900,"kwh":2}"#).0 {} else { Issue.record("\\u00e9") }
        if case .rejected(.badMeterID) = parse(#"{"kind":"r","meter":"\ud83d\ude00","ts":1795140900,"kwh":2}"#).0 {} else { Issue.record("surrogate pair") }
    }

    @Test(arguments: [
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":"\ud83d"}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":"\ude00"}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":"\u12"}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":"\q"}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":{"a"}}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":[1,]}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":[1}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,"x":tru}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":01}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1.}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":+1}"#,
        #"{"kind":"r","meter":["A"],"ts":1795140900,"kwh":1}"#,
        #"{"kind":"r","meter":"A","ts":1795140900,"kwh":1,}"#,
    ])
    func invalidJSONIsRejected(_ line: String) {
        guard case .rejected(.badJSON) = parse(line).0 else { Issue.record("not bad_json: \(line)"); return }
    }

    // MARK: Differential test against JSONSerialization

    struct Gen {
        var rng: SplitMix
        mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
        mutating func ws() -> String { chance(80) ? "" : pick([" ", "  ", "\t", " \t "]) }

        /// A JSON string literal spelling `s`, escaping some characters at random.
        mutating func quote(_ s: String) -> String {
            var o = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": o += "\\\""
                case "\\": o += "\\\\"
                case _ where u.value < 0x20: o += String(format: "\\u%04x", u.value)
                default:
                    if chance(25) {
                        if u.value > 0xFFFF {
                            let v = u.value - 0x10000
                            o += String(format: "\\u%04X\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                        } else {
                            o += chance(50) ? String(format: "\\u%04x", u.value) : String(format: "\\u%04X", u.value)
                        }
                    } else if u == "/" && chance(50) {
                        o += "\\/"
                    } else {
                        o.unicodeScalars.append(u)
                    }
                }
            }
            return o + "\""
        }

        mutating func text() -> String {
            let parts = ["a", "{", "}", "[", "]", "\"", "\\", ",", ":", "é", "中", "😀", "\n", "\t", "\u{1}", "/", " ", "kind", "\u{7F}"]
            return (0..<Int(rng.next() % 6)).map { _ in pick(parts) }.joined()
        }

        mutating func value(depth: Int) -> String {
            switch rng.next() % (depth > 4 ? 4 : 6) {
            case 0: return quote(text())
            case 1: return pick(["0", "-0", "1", "12.5", "-3e2", "1E-3", "0.000", "123456789"])
            case 2: return pick(["true", "false", "null"])
            case 3: return quote(pick(["", "x", "{\"kind\":\"i\"}"]))
            case 4:
                let n = Int(rng.next() % 4)
                return "[" + (0..<n).map { _ in ws() + value(depth: depth + 1) + ws() }.joined(separator: ",") + "]"
            default:
                let n = Int(rng.next() % 4)
                return "{" + (0..<n).map { _ in ws() + quote(text() + "k") + ws() + ":" + ws() + value(depth: depth + 1) + ws() }.joined(separator: ",") + "}"
            }
        }

        /// A register record line with unknown keys of every kind around its fields.
        mutating func line() -> String {
            var members = [
                quote("kind") + ":" + quote("r"),
                quote("meter") + ":" + quote(pick(["A", "AA", "M-1"])),
                quote("ts") + ":" + pick(["1795140900", quote("1795140900"), quote("2026-11-20T10:15:00+08:00")]),
                quote("kwh") + ":" + pick(["1012.5", "0", quote("7.25"), "3e2"]),
            ]
            for _ in 0..<Int(rng.next() % 4) {
                members.insert(quote(pick(["seq", "src", "x", "kinds", "meta", ""])) + ws() + ":" + ws() + value(depth: 0), at: Int(rng.next() % UInt64(members.count + 1)))
            }
            return "{" + ws() + members.map { $0 + ws() }.joined(separator: "," + ws()) + "}"
        }

        /// The line with one byte removed, inserted or replaced (never its leading brace).
        mutating func mutate(_ line: [UInt8]) -> [UInt8] {
            var b = line
            let at = 1 + Int(rng.next() % UInt64(b.count - 1))
            // No `e`: Foundation refuses numbers beyond Double's range (`17e95140900`), which JSON allows.
            let junk: [UInt8] = Array("{}[]\",:\\ u0.-+tfn".utf8) + [0x01, 0xC3, 0xE4, 0x80]
            switch rng.next() % 3 {
            case 0: b.remove(at: at)
            case 1: b.insert(pick(junk), at: at)
            default: b[at] = pick(junk)
            }
            return b
        }
    }

    /// What Foundation makes of a line: nil when it is not a JSON object, else its dictionary.
    func foundation(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// How often a comma is followed (after blanks) by a closing bracket or brace.
    func trailingCommas(_ b: [UInt8]) -> Int {
        var count = 0
        for (k, c) in b.enumerated() where c == 0x2C {
            var j = k + 1
            while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
            if j < b.count && (b[j] == 0x7D || b[j] == 0x5D) { count += 1 }
        }
        return count
    }

    @Test func agreesWithJSONSerialization() {
        var g = Gen(rng: SplitMix(seed: 2026))
        var records = 0, mutants = 0, mutantsValid = 0
        for _ in 0..<20_000 {
            let line = g.line()
            let bytes = Array(line.utf8)
            guard let d = foundation(bytes) else { Issue.record("generator made invalid JSON: \(line)"); return }
            let (o, r) = parse(line)
            guard case .record = o else { Issue.record("\(o) for valid line \(line)"); return }
            records += 1
            let id = d["meter"] as! String
            #expect(r.meter == meter(id), "\(line)")
            let kwh = d["kwh"].flatMap { ($0 as? String).flatMap(Double.init) ?? ($0 as? NSNumber)?.doubleValue }
            #expect(r.value == kwh, "\(line)")

            let m = g.mutate(bytes)
            mutants += 1
            let valid: Bool
            if trailingCommas(m) > trailingCommas(bytes) {
                // Foundation tolerates `[1,]` and `{"a":1,}`; JSON does not.
                valid = false
            } else if let md = foundation(m) {
                // A record field holding an object or array is bad_json here; Foundation takes it.
                valid = !["kind", "meter", "ts", "kwh", "region", "start", "end", "kg_per_kwh", "source", "mwh"].contains { k in
                    md[k] is [Any] || md[k] is [String: Any]
                }
            } else {
                valid = false
            }
            if valid { mutantsValid += 1 }
            let isBadJSON: Bool
            if case .rejected(.badJSON) = parse(bytes: m) { isBadJSON = true } else { isBadJSON = false }
            #expect(isBadJSON == !valid, "Foundation says \(valid ? "valid" : "invalid"): \(String(decoding: m, as: UTF8.self).debugDescription) \(m)")
        }
        #expect(records == 20_000 && mutants == 20_000)
        #expect(mutantsValid > 100 && mutantsValid < mutants - 100, "mutations should give both outcomes: \(mutantsValid) valid")
    }
}
