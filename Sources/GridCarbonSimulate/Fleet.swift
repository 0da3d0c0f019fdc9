import GridCarbonModel

/// A synthetic meter fleet: who the meters are (the registry), not what they read.
///
/// Meters are spread over the 31 provinces by provincial electricity consumption (every province
/// gets at least one meter once there are 31), 2–4 cities per province, 1–2 industrial parks per
/// city, and enterprises of 10–40 meters that share a city, a park (about half of them) and a
/// GB/T 4754 industry; about 5 % of meters stand alone with no enterprise or park. Meter sizes are
/// log-normal around an industry median. The fleet depends only on the meter count and the seed.
public struct Fleet: Sendable {
    public let count: Int
    /// Region index (``Region/codes``) per meter.
    public private(set) var region: [UInt8] = []
    /// City number within the province (1-based) per meter.
    public private(set) var city: [UInt8] = []
    /// Park number within the province (1-based), 0 when the meter is in no park.
    public private(set) var park: [UInt8] = []
    /// Enterprise number (1-based), 0 for stand-alone meters.
    public private(set) var enterprise: [Int32] = []
    /// ``Industry`` raw value per meter.
    public private(set) var industry: [UInt8] = []
    /// Typical peak demand, kW; the load shape scales it.
    public private(set) var typicalKW: [Double] = []
    /// `max_kw` written to the registry (3× the highest demand the meter can draw), 0 when left empty.
    public private(set) var maxKW: [Int32] = []
    /// Number of enterprises.
    public private(set) var enterprises: Int = 0
    /// Digits in meter ids (`M000001`).
    public let idWidth: Int
    /// Meter ids in several real shapes (``MeterIDShape``) instead of `M000001` for all.
    public let idShapes: Bool
    /// The seed, for the id shapes.
    let seed: UInt64

    /// Electricity consumption by province, TWh (China 2023, rounded), in ``Region/codes`` order from index 1.
    public static let provinceWeights: [Double] = [
        128, 101, 455, 297, 464, 263, 90, 118, 185, 783, 619,   // BJ TJ HE SX NM LN JL HL SH JS ZJ
        321, 309, 194, 758, 410, 271, 223, 850, 242, 48, 145,   // AH FJ JX SD HA HB HN GD GX HI CQ
        371, 177, 254, 12, 245, 167, 104, 128, 383,             // SC GZ YN XZ SN GS QH NX XJ
    ]

    /// Highest demand relative to typical peak (load shape at most 1, noise at most +20 %).
    static let peakFactor = 1.2

    /// - Parameter idShapes: spell meter ids in the shapes real head-end systems use
    ///   (``MeterIDShape``); the fleet itself (regions, sizes, enterprises) does not change.
    public init(meters: Int, seed: UInt64, idShapes: Bool = false) {
        count = meters
        self.idShapes = idShapes
        self.seed = seed
        var w = 6
        var cap = 1_000_000
        while meters >= cap { w += 1; cap *= 10 }
        idWidth = w
        var rng = SimRandom(seed: seed ^ 0x6772_6964_666C_6565)  // "gridflee"
        let quotas = Self.quotas(meters: meters)
        let industries = Industry.allCases
        let industryWeights = industries.map(\.weight)
        region.reserveCapacity(meters); city.reserveCapacity(meters); park.reserveCapacity(meters)
        enterprise.reserveCapacity(meters); industry.reserveCapacity(meters)
        typicalKW.reserveCapacity(meters); maxKW.reserveCapacity(meters)
        var ent: Int32 = 0
        for p in Region.provinces {
            let cities = 2 + rng.below(3)
            let cityWeights = Array([0.45, 0.28, 0.17, 0.10].prefix(cities))
            // Parks numbered across the province; parksOfCity[c] lists park numbers of city c.
            var parksOfCity: [[Int]] = []
            var nextPark = 1
            for _ in 0..<cities {
                let n = 1 + rng.below(2)
                parksOfCity.append(Array(nextPark..<(nextPark + n)))
                nextPark += n
            }
            var remaining = quotas[p]
            while remaining > 0 {
                let standalone = rng.unit() < 0.05
                let size = standalone ? 1 : min(remaining, 10 + rng.below(31))
                let c = rng.weighted(cityWeights)
                let ind = industries[rng.weighted(industryWeights)]
                var pk = 0
                if !standalone && rng.unit() < ind.parkShare {
                    let ps = parksOfCity[c]
                    pk = ps[rng.below(ps.count)]
                }
                var e: Int32 = 0
                if !standalone { ent += 1; e = ent }
                let median = ind.medianKW * rng.logNormal(mu: 0, sigma: 0.7)
                for _ in 0..<size {
                    let kw = min(30_000, max(0.5, median * rng.logNormal(mu: 0, sigma: 0.5)))
                    region.append(UInt8(p))
                    city.append(UInt8(c + 1))
                    park.append(UInt8(pk))
                    enterprise.append(e)
                    industry.append(UInt8(ind.rawValue))
                    typicalKW.append((kw * 10).rounded() / 10)
                    maxKW.append(rng.unit() < 0.9 ? Int32((kw * 10).rounded() / 10 * Self.peakFactor * 3 + 1) : 0)
                }
                remaining -= size
            }
        }
        enterprises = Int(ent)
        // Shuffle so meter ids are not grouped by province: a national stream interleaves them.
        var perm = Array(0..<meters)
        if meters > 1 {
            for i in stride(from: meters - 1, to: 0, by: -1) {
                perm.swapAt(i, rng.below(i + 1))
            }
        }
        region = perm.map { region[$0] }
        city = perm.map { city[$0] }
        park = perm.map { park[$0] }
        enterprise = perm.map { enterprise[$0] }
        industry = perm.map { industry[$0] }
        typicalKW = perm.map { typicalKW[$0] }
        maxKW = perm.map { maxKW[$0] }
    }

    /// Meters per province (index by region index), proportional to consumption by largest
    /// remainder, with at least one meter per province once there are 31 meters.
    public static func quotas(meters: Int) -> [Int] {
        var q = Array(repeating: 0, count: Region.count)
        let provinces = Array(Region.provinces)
        let floor = meters >= provinces.count ? 1 : 0
        let rest = meters - floor * provinces.count
        let total = provinceWeights.reduce(0, +)
        var fractions: [(Double, Int)] = []
        var given = 0
        for (k, p) in provinces.enumerated() {
            let exact = Double(rest) * provinceWeights[k] / total
            let whole = Int(exact)
            q[p] = floor + whole
            given += whole
            fractions.append((exact - Double(whole), p))
        }
        fractions.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        for i in 0..<(rest - given) { q[fractions[i % fractions.count].1] += 1 }
        return q
    }

    /// Appends the id of meter `i` (`M000001` for i = 0, or its ``MeterIDShape`` with ``idShapes``).
    @inline(__always)
    public func appendMeterID(_ i: Int, to out: inout [UInt8]) {
        if idShapes {
            MeterIDShape(meter: i, seed: seed).append(meter: i, region: Int(region[i]), width: idWidth, to: &out)
            return
        }
        out.append(0x4D)
        Self.appendPadded(i + 1, width: idWidth, to: &out)
    }

    public func meterID(_ i: Int) -> String {
        var b: [UInt8] = []
        appendMeterID(i, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// The registry CSV of §2.1: `meter_id,region,city,park,enterprise,industry,max_kw`.
    public func registryCSV() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + count * 52)
        out.append(contentsOf: "meter_id,region,city,park,enterprise,industry,max_kw\n".utf8)
        let codes = Region.codes.map { Array($0.utf8) }
        let industryCodes = Industry.allCases.map { Array($0.code.utf8) }
        for i in 0..<count {
            let r = codes[Int(region[i])]
            appendMeterID(i, to: &out)
            out.append(0x2C)
            out.append(contentsOf: r)
            out.append(0x2C)
            out.append(contentsOf: r); out.append(contentsOf: "-C".utf8); Self.appendPadded(Int(city[i]), width: 2, to: &out)
            out.append(0x2C)
            if park[i] != 0 {
                out.append(contentsOf: r); out.append(contentsOf: "-P".utf8); Self.appendPadded(Int(park[i]), width: 2, to: &out)
            }
            out.append(0x2C)
            if enterprise[i] != 0 {
                out.append(0x45); Self.appendPadded(Int(enterprise[i]), width: 6, to: &out)
            }
            out.append(0x2C)
            out.append(contentsOf: industryCodes[Int(industry[i])])
            out.append(0x2C)
            if maxKW[i] != 0 { Self.appendPadded(Int(maxKW[i]), width: 1, to: &out) }
            out.append(0x0A)
        }
        return out
    }

    static func appendPadded(_ v: Int, width: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var v = v
        repeat { digits.append(UInt8(0x30 + v % 10)); v /= 10 } while v > 0
        while digits.count < width { digits.append(0x30) }
        out.append(contentsOf: digits.reversed())
    }
}
