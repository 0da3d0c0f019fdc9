/// The GB/T 4754 sections the simulated fleet uses, each with a daily load shape.
///
/// Shapes are hourly points (demand as a share of the meter's typical peak at HH:00), linearly
/// interpolated in between; weekends have their own curve.
public enum Industry: Int, CaseIterable, Sendable {
    /// A: agriculture — daytime irrigation pumps.
    case agriculture
    /// C: manufacturing — three shifts, nearly flat, a lunchtime dip and shift changes.
    case manufacturing
    /// D: electricity, heat, gas and water supply — flat.
    case utilities
    /// E: construction — daytime sites.
    case construction
    /// F: wholesale and retail — open 09:00–22:00.
    case retail
    /// G: transport — two commuter peaks.
    case transport
    /// H: hotels and restaurants — meal peaks.
    case hospitality
    /// I: information services — data centres, flat and high.
    case information
    /// K: finance — offices 08:00–18:00 on weekdays.
    case finance
    /// L: leasing and business services — offices.
    case business
    /// P: education — 08:00–17:00 on weekdays.
    case education

    /// The section letter written to the registry.
    public var code: String {
        switch self {
        case .agriculture: "A"
        case .manufacturing: "C"
        case .utilities: "D"
        case .construction: "E"
        case .retail: "F"
        case .transport: "G"
        case .hospitality: "H"
        case .information: "I"
        case .finance: "K"
        case .business: "L"
        case .education: "P"
        }
    }

    public init?(code: String) {
        guard let i = Industry.allCases.first(where: { $0.code == code }) else { return nil }
        self = i
    }

    /// Share of meters (percent).
    var weight: Double {
        switch self {
        case .agriculture: 4
        case .manufacturing: 34
        case .utilities: 5
        case .construction: 6
        case .retail: 12
        case .transport: 6
        case .hospitality: 9
        case .information: 4
        case .finance: 7
        case .business: 6
        case .education: 7
        }
    }

    /// Median typical-peak demand of a meter, kW.
    var medianKW: Double {
        switch self {
        case .agriculture: 25
        case .manufacturing: 250
        case .utilities: 180
        case .construction: 60
        case .retail: 70
        case .transport: 160
        case .hospitality: 45
        case .information: 900
        case .finance: 60
        case .business: 50
        case .education: 90
        }
    }

    /// Probability that an enterprise of this industry sits in an industrial park.
    var parkShare: Double {
        switch self {
        case .manufacturing: 0.75
        case .information: 0.6
        case .utilities, .transport: 0.4
        case .agriculture: 0.2
        default: 0.3
        }
    }

    /// Hourly shape on working days.
    var weekday: [Double] {
        switch self {
        case .agriculture:
            return [0.10, 0.10, 0.10, 0.10, 0.10, 0.15, 0.50, 0.80, 0.85, 0.85, 0.85, 0.85,
                    0.80, 0.85, 0.85, 0.85, 0.85, 0.75, 0.40, 0.12, 0.10, 0.10, 0.10, 0.10]
        case .manufacturing:
            return [0.82, 0.80, 0.80, 0.80, 0.80, 0.80, 0.82, 0.74, 0.86, 0.92, 0.93, 0.92,
                    0.70, 0.86, 0.93, 0.92, 0.78, 0.86, 0.88, 0.88, 0.87, 0.86, 0.84, 0.82]
        case .utilities:
            return [0.84, 0.83, 0.82, 0.82, 0.82, 0.83, 0.85, 0.88, 0.90, 0.91, 0.91, 0.90,
                    0.89, 0.90, 0.91, 0.91, 0.90, 0.90, 0.91, 0.91, 0.89, 0.88, 0.86, 0.85]
        case .construction:
            return [0.05, 0.05, 0.05, 0.05, 0.05, 0.08, 0.30, 0.80, 0.90, 0.90, 0.90, 0.85,
                    0.55, 0.85, 0.90, 0.90, 0.90, 0.85, 0.65, 0.30, 0.08, 0.05, 0.05, 0.05]
        case .retail:
            return [0.15, 0.14, 0.14, 0.14, 0.14, 0.14, 0.15, 0.18, 0.35, 0.80, 0.90, 0.92,
                    0.92, 0.92, 0.92, 0.92, 0.92, 0.93, 0.95, 0.95, 0.93, 0.85, 0.40, 0.20]
        case .transport:
            return [0.20, 0.10, 0.10, 0.10, 0.10, 0.30, 0.60, 1.00, 1.00, 0.70, 0.60, 0.60,
                    0.60, 0.60, 0.60, 0.65, 0.75, 1.00, 1.00, 0.80, 0.60, 0.50, 0.40, 0.30]
        case .hospitality:
            return [0.30, 0.28, 0.27, 0.27, 0.28, 0.32, 0.45, 0.65, 0.60, 0.45, 0.55, 0.90,
                    0.95, 0.70, 0.50, 0.45, 0.60, 0.90, 1.00, 0.95, 0.75, 0.55, 0.45, 0.35]
        case .information:
            return [0.92, 0.92, 0.91, 0.91, 0.91, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.96,
                    0.96, 0.96, 0.96, 0.96, 0.95, 0.95, 0.95, 0.95, 0.94, 0.94, 0.93, 0.92]
        case .finance, .business:
            return [0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.18, 0.35, 0.80, 0.95, 0.95, 0.95,
                    0.80, 0.95, 0.95, 0.95, 0.95, 0.85, 0.50, 0.30, 0.25, 0.20, 0.15, 0.15]
        case .education:
            return [0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.15, 0.40, 0.85, 0.90, 0.90, 0.90,
                    0.70, 0.90, 0.90, 0.90, 0.90, 0.50, 0.30, 0.25, 0.25, 0.25, 0.15, 0.10]
        }
    }

    /// Hourly shape on Saturdays and Sundays.
    var weekend: [Double] {
        switch self {
        case .manufacturing: return weekday.map { $0 * 0.85 }
        case .construction: return weekday.map { $0 * 0.7 }
        case .retail, .hospitality: return weekday.map { min(1, $0 * 1.08) }
        case .finance, .business:
            return [0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.18, 0.20, 0.20, 0.20,
                    0.20, 0.20, 0.20, 0.20, 0.20, 0.18, 0.16, 0.15, 0.15, 0.15, 0.15, 0.15]
        case .education:
            return [0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.12, 0.13, 0.16, 0.18, 0.18, 0.18,
                    0.18, 0.18, 0.18, 0.18, 0.18, 0.15, 0.13, 0.13, 0.13, 0.13, 0.12, 0.12]
        case .transport:
            return [0.20, 0.10, 0.10, 0.10, 0.10, 0.25, 0.45, 0.65, 0.75, 0.75, 0.70, 0.70,
                    0.70, 0.70, 0.70, 0.70, 0.75, 0.75, 0.75, 0.70, 0.60, 0.50, 0.40, 0.30]
        default: return weekday
        }
    }

    /// Demand as a share of typical peak at `secondOfDay` local time.
    public func shape(secondOfDay: Int, weekend isWeekend: Bool) -> Double {
        let points = isWeekend ? weekend : weekday
        let s = ((secondOfDay % 86_400) + 86_400) % 86_400
        let h = s / 3600
        let f = Double(s % 3600) / 3600
        return points[h] * (1 - f) + points[(h + 1) % 24] * f
    }
}
