import GridCarbonModel

/// `intensity` rules: at each closed window of the rule's length, the intensity (kg/kWh) of each
/// key of the rule's level against the threshold.
extension AlertEvaluator {
    /// An intensity rule, resolved against the registry's keys.
    struct IntensityRule {
        var rule: Int
        var lengthIndex: Int
        var level: Level
        /// Key index, -1 for every key, -2 for a key the registry does not know (never matches).
        var key: Int32
    }

    /// Builds the per-length lookup tables (``unkeyedIntensity``, ``keyedStart``, ``keyedList``)
    /// from ``intensity``.
    func indexIntensityRules() {
        unkeyedIntensity = engine.windows.map { _ in [] }
        keyedStart = engine.windows.map { _ in Level.allCases.map { _ in [] } }
        keyedList = engine.windows.map { _ in [] }
        for (i, ir) in intensity.enumerated() where ir.key == -1 { unkeyedIntensity[ir.lengthIndex].append(i) }
        for li in engine.windows.indices {
            for level in Level.allCases {
                let all = intensity
                let rules = all.indices.filter { all[$0].lengthIndex == li && all[$0].level == level && all[$0].key >= 0 }
                guard !rules.isEmpty else { continue }
                var perKey = [[Int32]](repeating: [], count: registry.keyNames[level.rawValue].count)
                for i in rules { perKey[Int(intensity[i].key)].append(Int32(i)) }
                var starts: [Int32] = [Int32(keyedList[li].count)]
                for list in perKey { keyedList[li].append(contentsOf: list); starts.append(Int32(keyedList[li].count)) }
                keyedStart[li][level.rawValue] = starts
            }
        }
    }

    /// Every intensity rule of the window's length over its rows.
    func evaluateIntensity(_ w: ClosedWindow) {
        let li = w.lengthIndex
        let unkeyed = unkeyedIntensity[li], starts = keyedStart[li], list = keyedList[li]
        if unkeyed.isEmpty && list.isEmpty { return }
        // Rows come sorted by level, then key name; rules apply in that row order, then rule order.
        for row in w.rows {
            guard row.energy > 0 else { continue }
            for i in unkeyed where intensity[i].level == row.level { evaluateIntensity(intensity[i], row, w) }
            let s = starts[row.level.rawValue]
            if !s.isEmpty && Int(row.key) + 1 < s.count {
                for j in Int(s[Int(row.key)])..<Int(s[Int(row.key) + 1]) { evaluateIntensity(intensity[Int(list[j])], row, w) }
            }
        }
    }

    /// One rule over one row: fires above the threshold, resolves below the hysteresis band.
    func evaluateIntensity(_ ir: IntensityRule, _ row: AggregateRow, _ w: ClosedWindow) {
        let rule = settings.rules[ir.rule]
        let value = row.co2 / row.energy
        let k = Self.alertKey(rule: ir.rule, item: Int64(row.key), sub: 0)
        if active[k] == nil {
            guard value > rule.threshold else { return }
            let name = registry.keyNames[ir.level.rawValue][Int(row.key)]
            fire(k, Active(id: alertID(rule: ir.rule, level: ir.level, key: name, period: periodLabel(ir.lengthIndex)),
                           rule: ir.rule, severity: rule.severity, level: ir.level, key: name,
                           windowStart: w.start, windowEnd: w.end, startsAt: w.end, value: value, threshold: rule.threshold,
                           message: "\(ir.level.name) \(name): intensity \(Self.fmt(value)) kg/kWh over \(periodLabel(ir.lengthIndex)) is above \(Self.fmt(rule.threshold))"))
        } else if value < rule.threshold * (1 - rule.hysteresis) {
            let name = registry.keyNames[ir.level.rawValue][Int(row.key)]
            resolve(k, value: value, windowStart: w.start, windowEnd: w.end, at: w.end,
                    message: "\(ir.level.name) \(name): intensity \(Self.fmt(value)) kg/kWh is back below \(Self.fmt(rule.threshold * (1 - rule.hysteresis)))")
        }
    }
}
