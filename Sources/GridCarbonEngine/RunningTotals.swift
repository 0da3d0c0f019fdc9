import GridCarbonModel

/// Emissions and energy of the current local day, month and year to date (§4.2), per profile;
/// ``rollUp(level:)`` gives them per key.
public struct RunningTotals: Sendable {
    public struct Period: Sendable, Equatable {
        public var energy: Double = 0
        public var co2: Double = 0
    }

    let zone: Zone
    /// Local day number, month (`year*12+month-1`) and year of the last closed slot.
    public internal(set) var day: Int = Int.min
    public internal(set) var month: Int = Int.min
    public internal(set) var year: Int = Int.min
    var dayTotals: [Period]
    var monthTotals: [Period]
    var yearTotals: [Period]

    init(profiles: Int, zone: Zone) {
        self.zone = zone
        dayTotals = Array(repeating: Period(), count: profiles)
        monthTotals = dayTotals
        yearTotals = dayTotals
    }

    /// Starts a slot: rolls the periods over when its local day, month or year is a new one.
    mutating func beginSlot(start: Micros) {
        let d = zone.localDay(start)
        if d == day { return }
        let c = Time.civilFromDays(d)
        let mo = c.year * 12 + c.month - 1
        day = d
        for i in dayTotals.indices { dayTotals[i] = Period() }
        if mo != month {
            month = mo
            for i in monthTotals.indices { monthTotals[i] = Period() }
        }
        if c.year != year {
            year = c.year
            for i in yearTotals.indices { yearTotals[i] = Period() }
        }
    }

    @inline(__always)
    mutating func add(profile p: Int, energy e: Double, co2 c: Double) {
        dayTotals[p].energy += e; dayTotals[p].co2 += c
        monthTotals[p].energy += e; monthTotals[p].co2 += c
        yearTotals[p].energy += e; yearTotals[p].co2 += c
    }

    /// Day, month and year to date per key of `level` (index = key index).
    public func rollUp(level: Level, registry: Registry) -> (day: [Period], month: [Period], year: [Period]) {
        let k = registry.keyCount(level)
        var d = [Period](repeating: Period(), count: k), m = d, y = d
        for (p, profile) in registry.profiles.enumerated() {
            let key = Int(profile.key(level))
            if key < 0 { continue }
            d[key].energy += dayTotals[p].energy; d[key].co2 += dayTotals[p].co2
            m[key].energy += monthTotals[p].energy; m[key].co2 += monthTotals[p].co2
            y[key].energy += yearTotals[p].energy; y[key].co2 += yearTotals[p].co2
        }
        return (d, m, y)
    }
}

extension RunningTotals {
    /// The totals as CSV, one row per level and key with energy this year, sorted like the
    /// aggregate files: `level,key,day,day_energy_kwh,day_co2_kg,month,month_energy_kwh,month_co2_kg,year,year_energy_kwh,year_co2_kg`.
    public func csv(registry: Registry, levels: [Level]) -> [UInt8] {
        var out = Array("level,key,day,day_energy_kwh,day_co2_kg,month,month_energy_kwh,month_co2_kg,year,year_energy_kwh,year_co2_kg\n".utf8)
        guard day != Int.min else { return out }
        let dayText = TimeFormatter.dateString(localDay: day)
        let monthText = String(dayText.prefix(7)), yearText = String(dayText.prefix(4))
        for level in Level.outputOrder where levels.contains(level) {
            let (d, m, y) = rollUp(level: level, registry: registry)
            let names = registry.keyNames[level.rawValue]
            let order = names.indices.sorted { Array(names[$0].utf8).lexicographicallyPrecedes(Array(names[$1].utf8)) }
            for k in order where y[k].energy != 0 || y[k].co2 != 0 {
                out.append(contentsOf: "\(level.name),\(names[k]),\(dayText),".utf8)
                NumberFormat.append(d[k].energy, to: &out); out.append(0x2C)
                NumberFormat.append(d[k].co2, to: &out); out.append(0x2C)
                out.append(contentsOf: "\(monthText),".utf8)
                NumberFormat.append(m[k].energy, to: &out); out.append(0x2C)
                NumberFormat.append(m[k].co2, to: &out); out.append(0x2C)
                out.append(contentsOf: "\(yearText),".utf8)
                NumberFormat.append(y[k].energy, to: &out); out.append(0x2C)
                NumberFormat.append(y[k].co2, to: &out); out.append(0x0A)
            }
        }
        return out
    }
}
