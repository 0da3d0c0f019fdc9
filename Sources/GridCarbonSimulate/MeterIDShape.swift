import GridCarbonModel

/// Meter ids as real head-end systems spell them (`--profile realistic`), each unique for its
/// meter and valid by reference §2.1 (`[A-Za-z0-9_.:-]{1,64}`), none starting with `X` (the
/// generator's unknown meters do):
///
/// - `M0435926`: a plain serial, at least 7 digits (half the meters);
/// - `SG.37.00050636`: State Grid style, the province's GB/T 2260 code and an 8-digit serial (three
///   in ten);
/// - `gd:66021-com_3`: a provincial collector's namespace, a terminal number and the meter's port
///   on it (two in ten).
///
/// The shape of a meter depends on its index and the seed only.
enum MeterIDShape {
    case serial, stateGrid, collectorPort

    /// GB/T 2260 province codes in ``Region/codes`` order from index 1 (BJ 11 … XJ 65).
    static let provinceNumbers: [UInt8] = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41,
        42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65,
    ]

    init(meter i: Int, seed: UInt64) {
        var x = UInt64(i) &+ seed &* 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        switch x % 10 {
        case 0..<5: self = .serial
        case 5..<8: self = .stateGrid
        default: self = .collectorPort
        }
    }

    /// Appends the id of meter `i` in `region` (an index of ``Region/codes``).
    func append(meter i: Int, region: Int, width: Int, to out: inout [UInt8]) {
        let n = i + 1
        switch self {
        case .serial:
            out.append(0x4D)
            Fleet.appendPadded(n, width: max(7, width), to: &out)
        case .stateGrid:
            out.append(contentsOf: "SG.".utf8)
            Fleet.appendPadded(Int(Self.provinceNumbers[max(0, min(region - 1, Self.provinceNumbers.count - 1))]), width: 2, to: &out)
            out.append(0x2E)
            Fleet.appendPadded(n, width: 8, to: &out)
        case .collectorPort:
            // `CN-GD` → `gd`.
            for b in Region.codes[region].utf8.dropFirst(3) { out.append(b | 0x20) }
            out.append(0x3A)
            Fleet.appendPadded(10_000 + n / 8, width: 5, to: &out)
            out.append(contentsOf: "-com_".utf8)
            Fleet.appendPadded(n % 8, width: 1, to: &out)
        }
    }
}
