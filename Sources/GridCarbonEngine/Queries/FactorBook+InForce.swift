import GridCarbonModel

extension FactorBook {
    /// The factor of `region` over `[start, end)` (as ``slotFactor(region:start:end:)``) and the
    /// §3.3 rule in force over most of it, from the records held now (reference §3.3, §6
    /// `GET /v1/factors?at=`).
    public func inForce(region: Int, start: Micros, end: Micros) -> FactorInForce {
        let value = slotFactor(region: region, start: start, end: end).kgPerKWh
        let localYear = Time.civilFromDays(zone.localDay(start)).year
        let annualBasis: FactorBasis = region != Region.national && annual.factor(region: region, year: localYear).region == Region.national
            ? .national : .annual
        let fs = factors[region], ms = mixes[region]
        var cuts: [Micros] = [start, end]
        for f in fs where f.start < end && f.end > start { cuts.append(max(f.start, start)); cuts.append(min(f.end, end)) }
        for m in ms where m.start < end && m.end > start { cuts.append(max(m.start, start)); cuts.append(min(m.end, end)) }
        cuts.sort()
        var time = [Micros](repeating: 0, count: FactorBasis.allCases.count)
        var prev = cuts[0]
        for c in cuts.dropFirst() where c > prev {
            let basis: FactorBasis
            if fs.contains(where: { $0.start <= prev && prev < $0.end }) {
                basis = .realtime
            } else if ms.contains(where: { $0.start <= prev && prev < $0.end && $0.mwh > 0 }) {
                basis = .mix
            } else {
                basis = annualBasis
            }
            time[FactorBasis.allCases.firstIndex(of: basis)!] += c - prev
            prev = c
        }
        var best = 0
        for i in time.indices where time[i] > time[best] { best = i }
        return FactorInForce(kgPerKWh: value, basis: FactorBasis.allCases[best])
    }
}
