import GridCarbonModel

extension FactorBook {
    /// The factor of `region` over `[start, end)` (as ``slotFactor(region:start:end:)``) and the
    /// §3.3 rule in force over most of it, from the records held now (reference §3.3, §6
    /// `GET /v1/factors?at=`).
    public func inForce(region: Int, start: Micros, end: Micros) -> FactorInForce {
        let value = slotFactor(region: region, start: start, end: end).kgPerKWh
        var cuts: [Micros] = [start, end]
        for f in factors[region] where f.start < end && f.end > start { cuts.append(max(f.start, start)); cuts.append(min(f.end, end)) }
        for m in mixes[region] where m.start < end && m.end > start { cuts.append(max(m.start, start)); cuts.append(min(m.end, end)) }
        for x in exchanges where x.start < end && x.end > start { cuts.append(max(x.start, start)); cuts.append(min(x.end, end)) }
        cuts.sort()
        var time = [Micros](repeating: 0, count: FactorBasis.allCases.count)
        var prev = cuts[0]
        for c in cuts.dropFirst() where c > prev {
            let basis = instantFactor(region: region, at: prev).rule
            time[FactorBasis.allCases.firstIndex(of: basis)!] += c - prev
            prev = c
        }
        var best = 0
        for i in time.indices where time[i] > time[best] { best = i }
        return FactorInForce(kgPerKWh: value, basis: FactorBasis.allCases[best])
    }
}
