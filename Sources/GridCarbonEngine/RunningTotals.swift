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
    public private(set) var day: Int = Int.min
    public private(set) var month: Int = Int.min
    public private(set) var year: Int = Int.min
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
