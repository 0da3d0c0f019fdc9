import Foundation
import Testing
@testable import GridCarbonIO
@testable import GridCarbonModel

/// The one reader of the configuration file: its list of keys, flags over the file over the
/// defaults, and errors that name the file and line.
@Suite struct ConfigFileTests {
    func file(_ text: String) throws(ConfigurationError) -> ConfigFile { try ConfigFile(text: text, path: "c.json") }

    @Test func unknownKeysAreRefusedFromTheOneList() throws {
        let known = ConfigKey.names(in: [])
        #expect(known.contains("zone") && known.contains("alerts") && known.contains("wal_segment_bytes") && known.contains("tce_coefficients") && known.count == 29)
        #expect(ConfigKey.names(in: ["alerts"]) == ["rules", "budgets", "webhooks", "webhook_token", "alertmanager", "keep_alive",
                                                     "max_sse_subscribers", "log_segment_bytes", "log_max_age", "log_max_bytes"])
        #expect(ConfigKey.names(in: ["alerts", "alertmanager"]) == ["url", "resend"])
        #expect(ConfigKey.ruleFields.contains("threshold") && ConfigKey.ruleFields.count == 13)
        do { try file(#"{"zone": "UTC", "zoen": "UTC"}"#).checkKeys(); Issue.record("accepted zoen") } catch {
            #expect(error.code == .unknownKey && error.description.hasPrefix("config c.json: unknown key 'zoen' (known: alerts, checkpoint_bytes,"), "\(error)")
        }
        do { try file(#"{"alerts": {"alertmanager": {"resnd": "1m"}}}"#).checkKeys(); Issue.record("accepted resnd") } catch {
            #expect(error.description == "config c.json: unknown key 'resnd' in alerts.alertmanager (known: resend, url)")
        }
        do { _ = try file("{\n\"alerts\": {\n\"foo\": 1}}").alertSettings(engine: EngineSettings()); Issue.record("accepted alerts.foo") } catch {
            #expect(error.description == "c.json:3: unknown key alerts.foo")
        }
    }

    @Test func flagsOverTheFileOverTheDefaults() throws {
        let f = try file(#"{"zone": "UTC", "windows": ["15m", "1h"], "levels": "province,city", "max_gap": "2d"}"#)
        let s = try EngineSettings(file: f, flags: [.maxGap: "12h"])
        #expect(s.zone == .utc && s.windows == [15 * Time.microsPerMinute, Time.microsPerHour] && s.levels == [.province, .city])
        #expect(s.maxGap == 12 * Time.microsPerHour && s.reorderWindow == 15 * Time.microsPerMinute)
        #expect(f.value(.data, flag: nil) == "./gridcarbon-data" && f.value(.data, flag: "x") == "x" && f.value(.registry, flag: nil) == nil)
        // Values of another type than text are absent, as before.
        #expect(try file(#"{"checkpoint_bytes": 5}"#).string(.checkpointBytes) == nil)
    }

    @Test func defaultsInTheTableAreTheEngines() throws {
        #expect(try EngineSettings(file: .empty) == EngineSettings())
        for key in ConfigKey.all {
            #expect(ConfigKey.all.filter { $0.name == key.name }.count == 1, "\(key) twice")
            #expect(!key.doc.isEmpty, "\(key) undocumented")
        }
    }

    @Test func alertLogRetentionFromTheFileWithTheTablesDefaults() throws {
        let defaults = try ConfigFile.empty.alertLogRetention()
        #expect(defaults == AlertLogRetention())
        #expect(ConfigKey.alertLogSegmentBytes.defaultValue == String(defaults.segmentBytes))
        #expect(ConfigKey.alertLogMaxBytes.defaultValue == defaults.maxBytes.map(String.init))
        #expect(DurationFormat.parse(ConfigKey.alertLogMaxAge.defaultValue ?? "") == defaults.maxAge)
        let set = try file(#"{"alerts": {"log_segment_bytes": 65536, "log_max_age": "7d", "log_max_bytes": "off"}}"#).alertLogRetention()
        #expect(set == AlertLogRetention(segmentBytes: 65536, maxAge: 7 * Time.microsPerDay, maxBytes: nil))
        #expect(try file(#"{"alerts": {"max_sse_subscribers": "8"}}"#).wholeNumber(.alertMaxSSESubscribers, in: 1...100) == 8)
        do { _ = try file("{\"alerts\": {\n\"log_max_age\": true}}").alertLogRetention(); Issue.record("accepted") } catch {
            #expect(error.code == .badValue && error.description == "c.json:2: alerts.log_max_age 'true' is not a duration such as 30d, or off", "\(error)")
        }
    }

    @Test func badValuesNameTheirFlag() throws {
        for (flags, message) in [([ConfigKey.reorderWindow: "soon"], "reorder-window 'soon' is not a duration"),
                                 ([.zone: "Mars/Base"], "zone 'Mars/Base' is not a fixed offset"),
                                 ([.levels: "planet"], "levels: unknown level 'planet'"),
                                 ([.resolution: "7m"], "resolution must divide a day evenly (got 7m)")] {
            do { _ = try EngineSettings(file: .empty, flags: flags); Issue.record("accepted \(flags)") } catch {
                #expect(error.category == .badConfiguration && error.description.hasPrefix(message), "\(error)")
            }
        }
    }

    @Test func syntaxErrorsInTheRulesNameTheirLine() throws {
        do { _ = try file("{\n\"alerts\": {\"rules\": [\n{\"name\": \"a\",}\n]}}"); Issue.record("accepted") } catch {
            #expect(error.description == "c.json:3: not valid JSON: expected a key in quotes", "\(error)")
        }
        // Outside the rules a comma may end a list, as Foundation's parser takes it; not inside.
        #expect(try file(#"{"zone": "UTC", "windows": ["15m", "1h",],}"#).string(.windows) == "15m,1h")
        do { _ = try file("{\"alerts\": {\"rules\": [\n{\"name\": \"a\", \"kind\": \"budget\"},\n]}}"); Issue.record("accepted") } catch {
            #expect(error.description == "c.json:3: not valid JSON: unexpected character", "\(error)")
        }
        for text in [#"{"zone": "#, "[1, 2]", #"{"webhooks": [{"a": 1}]}"#, #"{"zone": "UTC"} x"#] {
            do { _ = try file(text); Issue.record("accepted \(text)") } catch {
                #expect(error.description == "config c.json: not a valid JSON object of settings", "\(error)")
            }
        }
    }
}

/// ``JSONScan/document(_:)``, the parse of the whole configuration file, against Foundation's
/// JSON parser on mutated documents: both accept or both refuse, and accepted documents give the
/// same values.
@Suite struct JSONDocumentFuzzTests {
    static let base = #"{"zone": "+08:00", "windows": ["15m", "1h"], "alerts": {"rules": [{"name": "hot-é\n", "kind": "intensity","#
        + #" "threshold": 0.75, "x": [1, {"y": null}], "b": true}, {"name": "b\u00e9\ud83d\ude00", "n": -0, "z": {}}, 12, []]}, "f": 8e-1}"#
    static let alphabet = Array(#"{}[]:,"\ u0123456789eE+-.truefalsn/ "#.utf8) + [0x0A, 0x09, 0x01, 0xC3, 0xA9, 0xFF]

    func same(_ node: JSONNode, _ any: Any) -> Bool {
        switch node.value {
        case .object(let members):
            guard let d = any as? [String: Any] else { return false }
            var last: [String: JSONNode] = [:]
            for m in members { last[m.key] = m.node }
            return Set(last.keys) == Set(d.keys) && last.allSatisfy { same($0.value, d[$0.key]!) }
        case .array(let elements):
            guard let a = any as? [Any], a.count == elements.count else { return false }
            return zip(elements, a).allSatisfy { same($0, $1) }
        case .string(let v): return (any as? String) == v
        case .number(let v):
            guard let n = any as? NSNumber, String(cString: n.objCType) != "c" else { return false }
            return n.doubleValue == v
        case .bool(let v): return (any as? Bool) == v && (any as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? true
        case .null: return any is NSNull
        }
    }

    /// FUZZ_SEED and FUZZ_ROUNDS run other and longer rounds.
    @Test func agreesWithFoundationOnMutatedDocuments() {
        var mix = SplitMix(seed: UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "2027")!)
        let base = Array(Self.base.utf8)
        var disagreements: [String] = []
        var accepted = 0
        for round in 0..<Int(ProcessInfo.processInfo.environment["FUZZ_ROUNDS"] ?? "4000")! {
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
            let mine = try? JSONScan.document(t)
            let theirs = try? JSONSerialization.jsonObject(with: Data(t), options: [.fragmentsAllowed])
            switch (mine, theirs) {
            case (let m?, let f?):
                accepted += 1
                if !same(m, f) { disagreements.append("\(round): values \(String(decoding: t, as: UTF8.self))") }
            case (nil, nil): break
            case (.some, nil): disagreements.append("\(round): mine accepts, Foundation refuses: \(String(decoding: t, as: UTF8.self))")
            case (nil, .some): disagreements.append("\(round): mine refuses, Foundation accepts: \(String(decoding: t, as: UTF8.self))")
            }
        }
        #expect(accepted > 200)
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
