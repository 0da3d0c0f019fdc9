import Foundation
import Testing
@testable import GridCarbonIO

/// The byte-level JSON scan: keys, values and lines by path in a configuration file.
@Suite struct JSONScanTests {
    static let text = Array("""
    {"zone": "+08:00", "windows": ["15m", "1h"],
     "tricky": {"a\\"b": "}", "nested": [{"x": 1}, "]"]},
     "alerts": {
       "rules": [{"name": "r", "kind": "budget"}, {"name": "s,{", "kind": "intensity"}],
       "alertmanager": {"url": "http://127.0.0.1:9093", "resend": "1m"},
       "webhooks": ["http://h/1"]
     },
     "fsync": 12.5e-1, "empty": {}
    }
    """.utf8)

    @Test func objectKeysInOrderAtAnyDepth() {
        #expect(JSONScan.objectKeys(Self.text, at: []) == ["zone", "windows", "tricky", "alerts", "fsync", "empty"])
        #expect(JSONScan.objectKeys(Self.text, at: ["alerts"]) == ["rules", "alertmanager", "webhooks"])
        #expect(JSONScan.objectKeys(Self.text, at: ["alerts", "alertmanager"]) == ["url", "resend"])
        #expect(JSONScan.objectKeys(Self.text, at: ["tricky"]) == ["a\\\"b", "nested"])
        #expect(JSONScan.objectKeys(Self.text, at: ["empty"]) == [])
        // Not an object, or not there.
        #expect(JSONScan.objectKeys(Self.text, at: ["zone"]) == [])
        #expect(JSONScan.objectKeys(Self.text, at: ["alerts", "nothing"]) == [])
    }

    @Test func valueRangesAndNulling() throws {
        func value(_ path: [String]) -> String? {
            JSONScan.valueRange(Self.text, at: path).map { String(decoding: Self.text[$0], as: UTF8.self) }
        }
        #expect(value(["zone"]) == "\"+08:00\"")
        #expect(value(["fsync"]) == "12.5e-1")
        #expect(value(["alerts", "rules"]) == #"[{"name": "r", "kind": "budget"}, {"name": "s,{", "kind": "intensity"}]"#)
        #expect(value(["tricky", "nested"]) == #"[{"x": 1}, "]"]"#)
        // Array elements by index (the line numbers of rule errors use them); none past the end.
        #expect(value(["alerts", "rules", "0"]) == #"{"name": "r", "kind": "budget"}"#)
        #expect(value(["alerts", "rules", "1", "name"]) == #""s,{""#)
        #expect(value(["alerts", "rules", "2"]) == nil && value(["alerts", "rules", "x"]) == nil && value(["zone", "0"]) == nil)
        #expect(JSONScan.line(Self.text, of: ["alerts", "rules", "1"]) == 4 && JSONScan.line(Self.text, of: ["fsync"]) == 8)
        let nulled = String(decoding: JSONScan.nulling(Self.text, at: ["alerts", "rules"]), as: UTF8.self)
        #expect(nulled.contains("\"rules\": null,\n") && !nulled.contains("\"kind\""))
        #expect(JSONScan.nulling(Self.text, at: ["absent"]) == Self.text)
    }

    @Test func malformedTextNeverReadsOutOfBounds() {
        let pieces = ["{", "{\"a\"", "{\"a\":", "{\"a\": [1, {\"b\": \"", "{\"a\\", "\"", "[", "}", "", "{\"a\": 1,", "{\"a\" 1}"]
        for p in pieces {
            let t = Array(p.utf8)
            _ = JSONScan.objectKeys(t, at: [])
            _ = JSONScan.objectKeys(t, at: ["a"])
            _ = JSONScan.valueRange(t, at: ["a"])
            _ = JSONScan.nulling(t, at: ["a", "b"])
        }
        // Every prefix of a real document.
        for n in 0...Self.text.count {
            let t = Array(Self.text[..<n])
            _ = JSONScan.objectKeys(t, at: ["alerts"])
            if let r = JSONScan.valueRange(t, at: ["alerts", "rules"]) { #expect(r.upperBound <= t.count) }
        }
    }
}

/// The strict reader of the alert rules against Foundation's JSON parser, on mutated documents:
/// both accept or both refuse, and accepted documents give the same values.
@Suite struct JSONScanFuzzTests {
    static let base = #"[{"name": "hot-é\n", "kind": "intensity", "threshold": 0.75, "window": "1h", "x": [1, {"y": null}], "b": true},"#
        + #" {"name": "b\u00e9\ud83d\ude00", "kind": "budget", "warn_ratio": 8e-1, "n": -0, "z": {}}, 12, "s", [], {}]"#
    static let alphabet = Array(#"{}[]:,"\ u0123456789eE+-.truefalsn/ "#.utf8) + [0x0A, 0x09, 0x01, 0xC3, 0xA9, 0xFF]

    func foundation(_ text: [UInt8]) -> [Any]? {
        let doc = Array(#"{"alerts": {"rules": "#.utf8) + text + Array("}}".utf8)
        guard let o = try? JSONSerialization.jsonObject(with: Data(doc)) as? [String: Any],
              let a = o["alerts"] as? [String: Any] else { return nil }
        return a["rules"] as? [Any] ?? []
    }

    func same(_ s: JSONScalar, _ any: Any) -> Bool {
        switch s {
        case .string(let v): return (any as? String) == v
        case .number(let v):
            guard let n = any as? NSNumber, String(cString: n.objCType) != "c" else { return false }
            return n.doubleValue == v || (n.doubleValue.isNaN && v.isNaN)
        case .bool(let v): return (any as? Bool) == v && (any as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? true
        case .null: return any is NSNull
        case .array: return any is [Any]
        case .object: return any is [String: Any]
        }
    }

    @Test func agreesWithFoundationOnMutatedRules() throws {
        var mix = SplitMix(seed: 2026)
        let base = Array(Self.base.utf8)
        var disagreements: [String] = []
        var accepted = 0
        for round in 0..<4000 {
            var t = base
            for _ in 0..<(1 + Int(mix.next() % 3)) {
                let at = Int(mix.next() % UInt64(t.count + 1))
                let c = Self.alphabet[Int(mix.next() % UInt64(Self.alphabet.count))]
                switch mix.next() % 3 {
                case 0: t.insert(c, at: at)
                case 1: if at < t.count { t.remove(at: at) }
                default: if at < t.count { t[at] = c }
                }
            }
            let doc = Array(#"{"alerts": {"rules": "#.utf8) + t + Array("}}".utf8)
            let mine = try? JSONScan.objectArray(doc, at: ["alerts", "rules"])
            let theirs = foundation(t)
            // Text after the array (a mutation may end it early) is not the scanner's to judge.
            if let theirs, case .elements(let list)? = mine {
                accepted += 1
                guard list.count == theirs.count else { disagreements.append("\(round): count"); continue }
                for (e, f) in zip(list, theirs) {
                    if let members = e.members {
                        guard let d = f as? [String: Any] else { disagreements.append("\(round): kind"); continue }
                        var last: [String: JSONScalar] = [:]
                        for m in members { last[m.key] = m.value }
                        if Set(last.keys) != Set(d.keys) || !last.allSatisfy({ same($0.value, d[$0.key]!) }) {
                            disagreements.append("\(round): \(String(decoding: t, as: UTF8.self))")
                        }
                    } else if f is [String: Any] {
                        disagreements.append("\(round): object missed")
                    }
                }
            } else if case .elements? = mine, theirs == nil {
                // Garbage after the array: the loader's JSON parse of the rest refuses it.
                let rest = JSONScan.nulling(doc, at: ["alerts", "rules"])
                if (try? JSONSerialization.jsonObject(with: Data(rest))) != nil {
                    disagreements.append("\(round): mine accepts, Foundation refuses: \(String(decoding: t, as: UTF8.self))")
                }
            } else if mine == nil, theirs != nil {
                disagreements.append("\(round): mine refuses, Foundation accepts: \(String(decoding: t, as: UTF8.self))")
            }
        }
        #expect(accepted > 200)
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
