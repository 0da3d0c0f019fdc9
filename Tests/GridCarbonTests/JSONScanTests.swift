import Testing
@testable import GridCarbonIO

/// The byte-level JSON scan that checks configuration keys and takes the alert rules out of what
/// swift-configuration reads.
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
        #expect(value(["alerts", "rules", "0"]) == nil)
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
