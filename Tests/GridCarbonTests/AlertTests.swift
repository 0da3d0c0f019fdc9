import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

/// §5: each rule fires in the right window and resolves when it should.
@Suite struct AlertTests {
    static let d = "2026-11-18T"
    static func t(_ hhmm: String, day: String = d) -> Micros { Harness.t("\(day)\(hhmm):00+08:00") }

    /// One kWh per 15-minute slot for meter A from `from` for `slots` slots.
    static func intervals(_ meter: String = "A", from: String = "10:00", slots: Int) -> [String] {
        let start = t(from)
        let tf = TimeFormatter(zone: .shanghai)
        return (0..<slots).map { i in
            let a = start + Int64(i) * 15 * Time.microsPerMinute
            return "i,\(meter),\(tf.string(a)),\(tf.string(a + 15 * Time.microsPerMinute)),1"
        }
    }

    /// Real-time factors for CN-GD, one per slot from 10:00.
    static func factors(_ values: [Double]) -> [String] {
        let tf = TimeFormatter(zone: .shanghai)
        return values.enumerated().map { i, v in
            let a = t("10:00") + Int64(i) * 15 * Time.microsPerMinute
            return "f,CN-GD,\(tf.string(a)),\(tf.string(a + 15 * Time.microsPerMinute)),\(v)"
        }
    }

    static func harness(_ rules: [AlertRule], budgets: [Budget] = []) -> Harness {
        let h = Harness()
        h.engine.configureAlerts(AlertSettings(rules: rules, budgets: budgets))
        return h
    }

    @Test func intensityFiresAboveTheThresholdAndResolvesOnlyBelowTheHysteresisBand() {
        var rule = AlertRule(name: "hot", kind: .intensity)
        rule.level = .province; rule.key = "CN-GD"; rule.window = 15 * Time.microsPerMinute; rule.threshold = 0.5
        let h = Self.harness([rule]).feed(Self.factors([0.52, 0.49, 0.47, 0.60, 0.40]) + Self.intervals(slots: 5))
        let e = h.sink.alerts
        #expect(e.map(\.seq) == [1, 2, 3, 4])
        #expect(e.map(\.state) == [.firing, .resolved, .firing, .resolved])
        #expect(e.allSatisfy { $0.id == "hot/province/CN-GD/15m" })
        // 0.49 is inside the band (above 0.475): no event for the 10:15 window.
        #expect(e.map(\.windowStart) == [Self.t("10:00"), Self.t("10:30"), Self.t("10:45"), Self.t("11:00")])
        #expect(approx(e[0].value, 0.52) && approx(e[1].value, 0.47))
        #expect(e[1].startsAt == Self.t("10:15") && e[1].endsAt == Self.t("10:45"))
        #expect(h.engine.activeAlerts.isEmpty)
    }

    @Test func intensityWithoutKeyWatchesEveryKeyOfTheLevel() {
        var rule = AlertRule(name: "hot", kind: .intensity)
        rule.level = .enterprise; rule.window = Time.microsPerHour; rule.threshold = 0.1
        let h = Self.harness([rule]).feed(Self.intervals("A", slots: 4) + Self.intervals("B", slots: 4))
        #expect(h.sink.alerts.map(\.id) == ["hot/enterprise/E1/1h", "hot/enterprise/E2/1h"])
        #expect(h.engine.activeAlerts.count == 2)
    }

    @Test func budgetWarnsAtTheRatioTurnsCriticalAtTheBudgetAndResolvesWhenTheDayEnds() {
        var rule = AlertRule(name: "budget", kind: .budget)
        rule.warnRatio = 0.8
        let h = Self.harness([rule], budgets: [Budget(level: .enterprise, key: "E1", period: .day, kg: 2.4)])
        h.feed(Self.factors([0.5, 0.5, 0.5, 0.5, 0.5]) + Self.intervals(slots: 5) + Self.intervals(from: "23:45", slots: 2))
        let e = h.sink.alerts
        #expect(e.map(\.state) == [.firing, .firing, .resolved])
        #expect(e.map(\.severity) == [.warning, .critical, .critical])
        #expect(e.allSatisfy { $0.id == "budget/enterprise/E1/day" && $0.threshold == 2.4 })
        // 0.5 kg a slot: 2.0 kg (≥ 1.92) after the fourth slot, 2.5 after the fifth.
        #expect(approx(e[0].value, 2.0) && approx(e[1].value, 2.5))
        #expect(e[0].startsAt == Self.t("11:00") && e[1].startsAt == Self.t("11:00"))
        #expect(e[0].windowStart == Self.t("00:00") && e[0].windowEnd == Self.t("00:00", day: "2026-11-19T"))
        // The 23:45 slot adds to the day; the day ends at midnight with its total.
        let embedded = h.engine.factors.slotFactor(region: Region.index(of: "CN-GD")!, start: Self.t("23:45"), end: Self.t("00:00", day: "2026-11-19T")).kgPerKWh
        #expect(approx(e[2].value, 2.5 + embedded))
        #expect(e[2].endsAt == Self.t("00:00", day: "2026-11-19T"))
    }

    @Test func forecastProjectsFromTheTrailingRateAndGivesTheBreachTime() {
        var rule = AlertRule(name: "forecast", kind: .forecast)
        rule.lookback = Time.microsPerHour
        let h = Self.harness([rule], budgets: [Budget(level: .enterprise, key: "E1", period: .day, kg: 10)])
        h.feed(Self.factors([0.5, 0.5]) + Self.intervals(slots: 2), finish: false)
        h.feed(Self.intervals(from: "10:30", slots: 6), finish: false)
        // Slot 10:00: rate 0.5 kg/h, 13.75 h left: 0.5 + 6.875 = 7.375 < 10, nothing.
        // Slot 10:15: rate 1.0 kg/h, 13.5 h left: 1.0 + 13.5 = 14.5 ≥ 10: fires, breach (10 − 1)/1 h after 10:30.
        let e = h.sink.alerts
        #expect(e.count >= 1)
        #expect(e[0].id == "forecast/enterprise/E1/day" && e[0].state == .firing)
        #expect(approx(e[0].value, 14.5) && approx(e[0].projected ?? 0, 14.5))
        #expect(e[0].breachAt == Self.t("19:30"))
        #expect(e[0].startsAt == Self.t("10:30"))
    }

    @Test func forecastDoesNotFireOnceTheBudgetIsAlreadyReached() {
        var rule = AlertRule(name: "forecast", kind: .forecast)
        rule.lookback = Time.microsPerHour
        let h = Self.harness([rule], budgets: [Budget(level: .enterprise, key: "E1", period: .day, kg: 0.4)])
        h.feed(Self.factors([0.5]) + Self.intervals(slots: 1))
        #expect(h.sink.alerts.isEmpty)
    }

    @Test func silentMetersAreCountedPerProvinceAtWindowEnds() {
        var rule = AlertRule(name: "silent", kind: .dataQuality)
        rule.window = 15 * Time.microsPerMinute; rule.threshold = 1; rule.silentAfter = 20 * Time.microsPerMinute
        let tf = TimeFormatter(zone: .shanghai)
        var lines: [String] = []
        for i in 0...8 {
            let ts = Self.t("10:00") + Int64(i) * 15 * Time.microsPerMinute
            lines.append("r,A,\(tf.string(ts)),\(i)")
            // B reads at 10:00 and 10:15, then nothing until 11:30.
            if i <= 1 || i >= 6 { lines.append("r,B,\(tf.string(ts)),\(i)") }
        }
        for order in [lines, lines.reversed()] {
            var settings = EngineSettings()
            settings.reorderWindow = 3 * Time.microsPerHour   // the reversed feed stays inside the window
            let h = Harness(settings: settings)
            h.engine.configureAlerts(AlertSettings(rules: [rule]))
            h.feed(order)
            let e = h.sink.alerts
            // Silent at a window end e when its last reading before e is older than e − 20m: 10:45, 11:00, 11:15.
            #expect(e.map(\.state) == [.firing, .resolved])
            #expect(e.map(\.id) == ["silent/province/CN-GD/silent", "silent/province/CN-GD/silent"])
            #expect(e.first?.windowEnd == Self.t("10:45") && e.last?.endsAt == Self.t("11:30"))
            #expect(e.first?.value == 1 && e.last?.value == 0)
        }
    }

    @Test func aFleetWideOutageRaisesSilentAlertsAsTheWatermarkMovesByWallTime() {
        var rule = AlertRule(name: "silent", kind: .dataQuality)
        rule.window = 15 * Time.microsPerMinute; rule.threshold = 2; rule.silentAfter = 20 * Time.microsPerMinute
        let tf = TimeFormatter(zone: .shanghai)
        func reads(_ times: [String], from value: Int) -> [String] {
            times.enumerated().flatMap { i, hhmm in ["A", "B"].map { "r,\($0),\(tf.string(Self.t(hhmm))),\(value + i)" } }
        }
        var runs: [[String]] = []
        for steps in [1, 2, 7] {
            let h = Self.harness([rule])
            h.feed(reads(["10:00", "10:15", "10:30", "10:45"], from: 0), finish: false)
            // Nobody sends anything: the daemon's idle timer moves the watermark by wall time, in
            // one jump or in several steps (slots close an hour, the span horizon, behind it).
            let from = Self.t("10:45"), to = Self.t("12:45")
            for k in 1...steps { h.engine.advanceWatermark(to: from + (to - from) * Int64(k) / Int64(steps)) }
            #expect(h.sink.alerts.map(\.state) == [.firing], "\(steps) steps")
            h.feed(reads(["13:00", "13:15", "13:30"], from: 9))
            runs.append(h.sink.alerts.map { String(decoding: $0.json(zone: .shanghai), as: UTF8.self) })
            let e = h.sink.alerts
            // Both meters last read at 10:45: silent (older than 20 minutes) from the 11:15 window end.
            #expect(e.map(\.state) == [.firing, .resolved])
            #expect(e.first?.windowEnd == Self.t("11:15") && e.first?.value == 2 && e.first?.id == "silent/province/CN-GD/silent")
        }
        #expect(runs[0] == runs[1] && runs[1] == runs[2])
    }

    @Test func theEndOfTheInputIsNoOutage() {
        var rule = AlertRule(name: "silent", kind: .dataQuality)
        rule.window = 15 * Time.microsPerMinute; rule.threshold = 1; rule.silentAfter = 20 * Time.microsPerMinute
        let h = Self.harness([rule]).feed(Self.intervals("A", slots: 4) + Self.intervals("B", slots: 4))
        #expect(h.sink.alerts.isEmpty)
    }

    @Test func anomalyRateOverTheThresholdFires() {
        var rule = AlertRule(name: "quality", kind: .dataQuality)
        rule.window = 15 * Time.microsPerMinute; rule.maxAnomalyRate = 0.3
        let h = Self.harness([rule]).feed([
            "r,A,\(Self.d)10:00:00+08:00,100", "r,B,\(Self.d)10:00:00+08:00,100",
            "r,A,\(Self.d)10:15:00+08:00,101", "r,B,\(Self.d)10:15:00+08:00,5",     // B resets: 1 of 2 readings
            "r,A,\(Self.d)10:30:00+08:00,102", "r,B,\(Self.d)10:30:00+08:00,6",
            "r,A,\(Self.d)10:45:00+08:00,103", "r,B,\(Self.d)10:45:00+08:00,7",
        ])
        let e = h.sink.alerts
        #expect(e.map(\.state) == [.firing, .resolved])
        #expect(e[0].id == "quality/province/CN-GD/anomaly_rate" && approx(e[0].value, 0.5))
        #expect(e[0].windowStart == Self.t("10:15") && e[1].windowStart == Self.t("10:30"))
    }

    @Test func checkpointAndRestoreEmitTheSameEventsAsAnUninterruptedRun() throws {
        var hot = AlertRule(name: "hot", kind: .intensity)
        hot.window = 15 * Time.microsPerMinute; hot.threshold = 0.5
        var budget = AlertRule(name: "budget", kind: .budget)
        budget.warnRatio = 0.5
        var forecast = AlertRule(name: "forecast", kind: .forecast)
        forecast.lookback = Time.microsPerHour
        var silent = AlertRule(name: "silent", kind: .dataQuality)
        silent.threshold = 1; silent.silentAfter = 20 * Time.microsPerMinute; silent.window = 15 * Time.microsPerMinute
        let settings = AlertSettings(rules: [hot, budget, forecast, silent],
                                     budgets: [Budget(level: .province, key: "CN-GD", period: .day, kg: 3),
                                               Budget(level: .enterprise, key: "E1", period: .month, kg: 40)])
        let lines = Self.factors([0.6, 0.4, 0.7, 0.3, 0.8, 0.2, 0.55, 0.45]) + Self.intervals(slots: 12)
            + Self.intervals("B", from: "10:00", slots: 2) + Self.intervals("B", from: "11:30", slots: 4)
        let whole = Harness()
        whole.engine.configureAlerts(settings)
        whole.feed(lines)
        #expect(whole.sink.alerts.count >= 6)
        for split in stride(from: 1, to: lines.count, by: 3) {
            let first = Harness()
            first.engine.configureAlerts(settings)
            first.feed(Array(lines[..<split]), finish: false)
            let bytes = first.engine.checkpoint()
            let second = Harness()
            second.engine.configureAlerts(settings)
            try second.engine.restore(from: bytes)
            second.feed(Array(lines[split...]))
            let events = first.sink.alerts + second.sink.alerts
            #expect(events == whole.sink.alerts, "split at \(split)")
        }
    }

    @Test func reloadKeepsWhatStillAppliesAndResolvesTheRest() {
        var hot = AlertRule(name: "hot", kind: .intensity)
        hot.window = 15 * Time.microsPerMinute; hot.threshold = 0.5
        var warm = hot
        warm.name = "warm"; warm.threshold = 0.4
        let h = Self.harness([hot, warm])
        // Six slots in: the watermark (11:15) closes the 10:00 slot and its 15-minute window.
        h.feed(Self.factors(Array(repeating: 0.6, count: 10)) + Self.intervals(slots: 6), finish: false)
        #expect(h.sink.alerts.map(\.id) == ["hot/province/CN-GD/15m", "warm/province/CN-GD/15m"])
        h.engine.configureAlerts(AlertSettings(rules: [hot]))
        // warm is gone: its alert resolves now; hot stays firing and raises nothing new.
        #expect(h.sink.alerts.count == 3)
        #expect(h.sink.alerts[2].id == "warm/province/CN-GD/15m" && h.sink.alerts[2].state == .resolved && h.sink.alerts[2].seq == 3)
        h.feed(Self.intervals(from: "11:30", slots: 4))
        #expect(h.sink.alerts.count == 3)
        #expect(h.engine.activeAlerts.map(\.id) == ["hot/province/CN-GD/15m"])
        h.engine.configureAlerts(AlertSettings())
        #expect(h.sink.alerts.last?.state == .resolved && h.sink.alerts.last?.seq == 4)
        #expect(h.engine.alertSeq == 4)
    }

    @Test func alertStateFollowsARegistryReload() throws {
        var hot = AlertRule(name: "hot", kind: .intensity)
        hot.window = 15 * Time.microsPerMinute; hot.threshold = 0.5; hot.level = .enterprise; hot.key = "E9"
        var silent = AlertRule(name: "silent", kind: .dataQuality)
        silent.threshold = 1; silent.silentAfter = 20 * Time.microsPerMinute; silent.window = 15 * Time.microsPerMinute
        let h = Self.harness([hot, silent])
        h.feed(Self.factors(Array(repeating: 0.6, count: 12)) + Self.intervals(slots: 6), finish: false)
        // E9 does not exist yet: nothing fires. Meter A moves to the new enterprise E9.
        #expect(h.sink.alerts.isEmpty)
        let fresh = try Registry(csv: Harness.defaultRegistry.replacingOccurrences(of: "A,CN-GD,SZ,P1,E1", with: "A,CN-GD,SZ,P1,E9"), origin: "reload")
        let next = h.engine.replacingRegistry(with: fresh).engine
        let tf = TimeFormatter(zone: .shanghai)
        var line: Int64 = 1
        let src = next.source(named: "test")
        for i in 6..<12 {
            let a = Self.t("10:00") + Int64(i) * 15 * Time.microsPerMinute
            var text = "i,A,\(tf.string(a)),\(tf.string(a + 15 * Time.microsPerMinute)),1\n"
            text.withUTF8 { _ = next.ingest(UnsafeRawBufferPointer($0), source: src, line: &line) }
        }
        next.finish()
        // Spans attributed after the reload land under E9, and the rule bound to E9 by name sees them.
        let ids = h.sink.alerts.map(\.id)
        #expect(ids.first == "hot/enterprise/E9/15m", "\(ids)")
        #expect(h.sink.alerts.map(\.seq) == Array(1...Int64(h.sink.alerts.count)))
        #expect(next.alertSettings == h.engine.alertSettings)
    }

    @Test func aCheckpointRestoresTheRulesItWasTakenWithAndAReloadResolvesWhatIsGone() throws {
        var hot = AlertRule(name: "hot", kind: .intensity)
        hot.window = 15 * Time.microsPerMinute; hot.threshold = 0.5
        let a = AlertSettings(rules: [hot])
        let first = Self.harness([hot])
        first.feed(Self.factors(Array(repeating: 0.6, count: 10)) + Self.intervals(slots: 6), finish: false)
        #expect(first.sink.alerts.map(\.state) == [.firing])
        let bytes = first.engine.checkpoint()
        // The configuration changed while down: the restart restores the rules of the checkpoint,
        // then the new ones apply as a reload (in the daemon: a logged entry).
        let second = Harness()
        try second.engine.restore(from: bytes)
        #expect(second.engine.alertSettings == a && second.engine.alertSeq == 1)
        var cool = hot
        cool.name = "cool"; cool.threshold = 0.9
        second.engine.configureAlerts(AlertSettings(rules: [cool]))
        #expect(second.sink.alerts.map(\.state) == [.resolved])
        #expect(second.sink.alerts.first?.id == "hot/province/CN-GD/15m" && second.sink.alerts.first?.seq == 2)
    }

    @Test func aBudgetAddedMidPeriodCountsThePeriodSoFar() {
        let h = Harness()
        h.feed(Self.factors([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) + Self.intervals(slots: 6), finish: false)
        let closed = h.engine.totals.rollUp(level: .enterprise, registry: h.registry).day[Int(h.registry.keyNames[Level.enterprise.rawValue].firstIndex(of: "E1")!)].co2
        #expect(closed > 0)
        var rule = AlertRule(name: "budget", kind: .budget)
        rule.warnRatio = 0.5
        h.engine.configureAlerts(AlertSettings(rules: [rule], budgets: [Budget(level: .enterprise, key: "E1", period: .day, kg: closed + 0.5)]))
        h.feed(Self.intervals(from: "11:30", slots: 1))
        // The day so far (0.5 kg, before the rule) plus the next slot (0.5 kg) reach the budget at
        // once: the first event is critical. Counting from zero it would have been a warning first.
        let e = h.sink.alerts.first
        #expect(e?.severity == .critical, "\(h.sink.alerts)")
        #expect(approx(e?.value ?? 0, closed + 0.5))
    }

    @Test func eventJSONHasEveryFieldOfSection5() throws {
        var rule = AlertRule(name: "forecast", kind: .forecast)
        rule.lookback = Time.microsPerHour
        let h = Self.harness([rule], budgets: [Budget(level: .enterprise, key: "E1", period: .day, kg: 10)])
        h.feed(Self.factors([0.5, 0.5]) + Self.intervals(slots: 2))
        let line = String(decoding: h.sink.alerts[0].json(zone: .shanghai), as: UTF8.self)
        #expect(line == #"{"seq":1,"id":"forecast/enterprise/E1/day","rule":"forecast","kind":"forecast","severity":"warning","state":"firing","level":"enterprise","key":"E1","value":14.5,"threshold":10,"window_start":"2026-11-18T00:00:00+08:00","window_end":"2026-11-19T00:00:00+08:00","starts_at":"2026-11-18T10:30:00+08:00","ends_at":null,"message":"enterprise E1: at 1 kg/h the day is projected to end at 14.5 kg, over the budget of 10 kg, which would be reached at 2026-11-18T19:30:00+08:00","projected_kg":14.5,"breach_at":"2026-11-18T19:30:00+08:00"}"# + "\n")
    }
}

/// Rule configuration and budgets: every error names its file and line.
@Suite struct AlertConfigTests {
    let engine = EngineSettings()

    @Test func rulesParseWithDefaults() throws {
        let text = """
        {
          "alerts": {
            "rules": [
              {"name": "hot", "kind": "intensity", "threshold": 0.8},
              {"name": "q", "kind": "data_quality", "threshold": 5, "silent_after": "2h", "severity": "critical"}
            ]
          }
        }
        """
        let s = try AlertConfig.load(text: text, path: "c.json", engine: engine)
        #expect(s.rules.count == 2)
        #expect(s.rules[0].hysteresis == 0.05 && s.rules[0].level == nil && s.rules[0].threshold == 0.8)
        #expect(AlertSettings.window(of: s.rules[0], engine: engine) == Time.microsPerHour)
        #expect(s.rules[1].silentAfter == 2 * Time.microsPerHour && s.rules[1].severity == .critical)
    }

    @Test(arguments: [
        (#"{"name": "hot", "kind": "intensity", "threshold": "high"}"#, 4, "threshold must be a number"),
        (#"{"name": "hot", "kind": "intensity", "treshold": 1}"#, 4, "unknown field 'treshold'"),
        (#"{"name": "hot", "kind": "heat", "threshold": 1}"#, 4, "\"kind\" must be one of"),
        (#"{"name": "hot", "kind": "intensity", "threshold": true}"#, 4, "threshold must be a number"),
        (#"{"name": "hot", "kind": "intensity", "threshold": 1, "window": "2h"}"#, 4, "window 2h is not one of the configured windows"),
        (#"{"name": "hot", "kind": "intensity"}"#, 4, "needs a threshold above 0"),
    ])
    func badRulesNameTheirLine(rule: String, line: Int, message: String) {
        let text = "{\n  \"alerts\": {\n    \"rules\": [\n      \(rule)\n    ]\n  }\n}\n"
        do {
            _ = try AlertConfig.load(text: text, path: "c.json", engine: engine)
            Issue.record("accepted \(rule)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(message), "\(error)")
            #expect(error.description.hasPrefix("c.json:\(line): rule 1: "), "\(error)")
        }
    }

    @Test func secondRuleErrorPointsAtItsOwnLine() {
        let text = "{\"alerts\": {\"rules\": [\n{\"name\": \"a\", \"kind\": \"budget\"},\n{\"name\": \"a\", \"kind\": \"budget\"}\n]}}"
        #expect(throws: AlertConfigError.self) { try AlertConfig.load(text: text, path: "c.json", engine: engine) }
        do { _ = try AlertConfig.load(text: text, path: "c.json", engine: engine) } catch {
            #expect(error.line == 3 && error.description.contains("two rules have this name"), "\(error)")
        }
    }

    @Test func budgetsParseAndBadRowsNameTheirLine() throws {
        let ok = try AlertConfig.parseBudgets("level,key,period,budget_kg\nprovince,CN-SD,year,1e9\nenterprise,E1,day,500\n", path: "b.csv")
        #expect(ok == [Budget(level: .province, key: "CN-SD", period: .year, kg: 1e9), Budget(level: .enterprise, key: "E1", period: .day, kg: 500)])
        let cases: [(String, String)] = [
            ("province,CN-XX,day,5", "not a province code"),
            ("province,CN-SD,week,5", "period must be day, month or year"),
            ("province,CN-SD,day,-5", "budget_kg must be a number above 0"),
            ("province,CN-SD,day", "expected 4 fields"),
            ("planet,EARTH,day,5", "unknown level"),
            ("province,CN-SD,year,1e9", "a second budget"),
        ]
        for (row, message) in cases {
            do {
                _ = try AlertConfig.parseBudgets("level,key,period,budget_kg\nprovince,CN-SD,year,1e9\n\(row)\n", path: "b.csv")
                Issue.record("accepted \(row)")
            } catch {
                #expect(error.description.hasPrefix("b.csv:3: ") && error.description.contains(message), "\(error)")
            }
        }
    }
}
