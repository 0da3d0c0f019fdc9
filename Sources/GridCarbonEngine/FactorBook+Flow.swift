import GridCarbonModel

/// Flow-traced solutions already computed, by instant (one owner at a time, as the engine).
final class FlowCache: @unchecked Sendable {
    var byInstant: [Micros: [Int: Double]] = [:]
    func clear() { if !byInstant.isEmpty { byInstant.removeAll(keepingCapacity: true) } }
}

// Flow-traced consumption factors (reference §9.3), rule 2 of §3.3 where exchange records exist.
extension FactorBook {
    /// The flow-traced consumption factor of every province with generation (`m`) records covering
    /// instant `t`, when at least one exchange (`x`) record covers it; empty otherwise.
    ///
    /// The system (``FlowTracing``) is over the provinces with generation at `t`, in average power
    /// (`mwh / hours` of each record, as the mix of §3.3). Imports from a province without
    /// generation records count at its annual factor (rules 3–4, the local year of `t`); exchanges
    /// into a province without generation records are not part of the system (that province keeps
    /// rules 3–4).
    public func flowTracedFactors(at t: Micros) -> [Int: Double] {
        if let hit = flowCache.byInstant[t] { return hit }
        let result = solveFlow(at: t)
        if flowCache.byInstant.count >= 4096 { flowCache.clear() }
        flowCache.byInstant[t] = result
        return result
    }

    /// The flow-traced factor of `region` at `t`, or nil when it has none (see ``flowTracedFactors(at:)``).
    func flowTracedFactor(region: Int, at t: Micros) -> Double? {
        flowTracedFactors(at: t)[region]
    }

    /// Adds to `cuts` the boundaries inside `[start, end)` of every mix and exchange record: the
    /// flow-traced factors are constant between them.
    func flowCuts(start: Micros, end: Micros, into cuts: inout [Micros]) {
        @inline(__always) func add(_ a: Micros, _ b: Micros) {
            guard a < end && b > start else { return }
            if a > start { cuts.append(a) }
            if b < end { cuts.append(b) }
        }
        for x in exchanges { add(x.start, x.end) }
        for ms in mixes { for m in ms { add(m.start, m.end) } }
    }

    /// ``flowTracedFactors(at:)`` computed afresh, without the cache (for measuring its cost).
    public func solveFlow(at t: Micros) -> [Int: Double] {
        let hour = Double(Time.microsPerHour)
        var flows: [(from: Int, to: Int, power: Double)] = []
        for x in exchanges where x.start <= t && t < x.end && x.mwh > 0 {
            flows.append((x.from, x.to, x.mwh / (Double(x.end - x.start) / hour)))
        }
        if flows.isEmpty { return [:] }
        // Sums in a fixed order, not in the order the records arrived: the same records give the
        // same bits whatever their order.
        flows.sort { ($0.to, $0.from, $0.power) < ($1.to, $1.from, $1.power) }
        var members: [Int] = []
        var slot = [Int](repeating: -1, count: Region.count)
        var generation: [Double] = [], emissions: [Double] = []
        for r in 0..<Region.count {
            var g = 0.0, e = 0.0
            var covering = mixes[r].filter { $0.start <= t && t < $0.end }
            if covering.count > 2 {
                covering.sort { ($0.start, $0.end, $0.source.rawValue) < ($1.start, $1.end, $1.source.rawValue) }
            }
            for m in covering {
                let p = m.mwh / (Double(m.end - m.start) / hour)
                g += p
                e += p * sources.values[m.source.rawValue]
            }
            if g > 0 {
                slot[r] = members.count
                members.append(r)
                generation.append(g)
                emissions.append(e)
            }
        }
        let n = members.count
        if n == 0 { return [:] }
        let year = Time.civilFromDays(zone.localDay(t)).year
        var imports = [Double](repeating: 0, count: n * n)
        var external = [Double](repeating: 0, count: n), externalPower = [Double](repeating: 0, count: n)
        for f in flows {
            let i = slot[f.to]
            guard i >= 0 else { continue }
            let j = slot[f.from]
            if j >= 0 {
                imports[i * n + j] += f.power
            } else {
                external[i] += f.power * annual.factor(region: f.from, year: year).value
                externalPower[i] += f.power
            }
        }
        guard let c = FlowTracing.solve(generation: generation, emissions: emissions, imports: imports,
                                        external: external, externalPower: externalPower) else { return [:] }
        var out: [Int: Double] = [:]
        for (k, r) in members.enumerated() { out[r] = c[k] }
        return out
    }
}

extension FactorBook {
    /// The factor of `region` in force at instant `t` and the rule that gave it (reference §3.3).
    public func instantFactor(region: Int, at t: Micros) -> (kgPerKWh: Double, rule: FactorBasis) {
        for f in factors[region] where f.start <= t && t < f.end { return (f.value, .realtime) }
        var num = 0.0, den = 0.0
        for m in mixes[region] where m.start <= t && t < m.end {
            let power = m.mwh / (Double(m.end - m.start) / Double(Time.microsPerHour))
            num += power * sources.values[m.source.rawValue]
            den += power
        }
        if den > 0 {
            if let c = flowTracedFactor(region: region, at: t) { return (c, .flowTraced) }
            return (num / den, .mix)
        }
        let a = annual.factor(region: region, year: Time.civilFromDays(zone.localDay(t)).year)
        return (a.value, a.region == region ? .annual : .national)
    }
}
