/// The 31 provincial grids of §1 plus the national grid `CN`, as small integer indices.
public enum Region {
    /// Region codes; index 0 is the national grid.
    public static let codes: [String] = [
        "CN",
        "CN-BJ", "CN-TJ", "CN-HE", "CN-SX", "CN-NM", "CN-LN", "CN-JL", "CN-HL", "CN-SH", "CN-JS", "CN-ZJ",
        "CN-AH", "CN-FJ", "CN-JX", "CN-SD", "CN-HA", "CN-HB", "CN-HN", "CN-GD", "CN-GX", "CN-HI", "CN-CQ",
        "CN-SC", "CN-GZ", "CN-YN", "CN-XZ", "CN-SN", "CN-GS", "CN-QH", "CN-NX", "CN-XJ",
    ]
    public static let national = 0
    public static let count = codes.count
    /// Province indices (everything but `CN`).
    public static let provinces = 1..<count

    private static let byCode: [String: Int] = Dictionary(uniqueKeysWithValues: codes.enumerated().map { ($1, $0) })

    public static func index(of code: String) -> Int? { byCode[code] }

    /// Region index of a code given as bytes (`CN-GD`), without building a `String`.
    @inlinable
    public static func index(bytes p: UnsafeRawBufferPointer) -> Int? {
        if p.count == 2 { return p[0] == 0x43 && p[1] == 0x4E ? 0 : nil }
        guard p.count == 5, p[0] == 0x43, p[1] == 0x4E, p[2] == 0x2D else { return nil }
        let key = UInt16(p[3]) << 8 | UInt16(p[4])
        return lookup2[key]
    }

    @usableFromInline
    static let lookup2: [UInt16: Int] = {
        var d: [UInt16: Int] = [:]
        for (i, c) in codes.enumerated() where c.count == 5 {
            let u = Array(c.utf8)
            d[UInt16(u[3]) << 8 | UInt16(u[4])] = i
        }
        return d
    }()
}

/// Identifiers (meter, city, park, enterprise, industry) match `[A-Za-z0-9_.:-]{1,64}`.
public enum Identifier {
    @inlinable
    public static func isValidByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2E, 0x3A, 0x2D: return true
        default: return false
        }
    }

    @inlinable
    public static func isValid(_ p: UnsafeRawBufferPointer) -> Bool {
        guard (1...64).contains(p.count) else { return false }
        return table.withUnsafeBufferPointer { t in
            for c in p where !t[Int(c)] { return false }
            return true
        }
    }

    @usableFromInline
    static let table: [Bool] = (0..<256).map { isValidByte(UInt8($0)) }

    public static func isValid(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isValid(UnsafeRawBufferPointer($0)) }
    }

    /// GB/T 4754 industry code: a section letter `A`–`T`, optionally followed by a 2–4 digit
    /// division/group/class code, or the 2–4 digit code alone (`C`, `C26`, `2611`).
    public static func isIndustryCode(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard !u.isEmpty else { return false }
        var i = 0
        if (0x41...0x54).contains(u[0]) { i = 1 }
        let digits = u.count - i
        if i == 1 && digits == 0 { return true }
        guard (2...4).contains(digits) else { return false }
        return u[i...].allSatisfy { (0x30...0x39).contains($0) }
    }
}

/// Generation sources of `m` records.
public enum Source: Int, CaseIterable, Sendable {
    case coal, gas, oil, nuclear, hydro, wind, solar, biomass, other

    /// The source's name as written in files (`coal`).
    public var name: String { Source.nameStrings[rawValue] }

    /// Names by raw value, made once (`String(describing:)` reflects on every call).
    static let nameStrings: [String] = allCases.map { String(describing: $0) }

    public init?(name: String) {
        guard let i = Source.nameStrings.firstIndex(of: name) else { return nil }
        self = Source.allCases[i]
    }

    /// Source of a name given as bytes.
    @inlinable
    public static func parse(_ p: UnsafeRawBufferPointer) -> Source? {
        for s in allCases where s.nameBytes.count == p.count {
            if s.nameBytes.withUnsafeBytes({ $0.elementsEqual(p) }) { return s }
        }
        return nil
    }

    @usableFromInline
    var nameBytes: [UInt8] { Source.names[rawValue] }

    @usableFromInline
    static let names: [[UInt8]] = allCases.map { Array($0.name.utf8) }
}

/// Aggregation levels of §3.5.
public enum Level: Int, CaseIterable, Sendable, Comparable {
    case national, province, city, park, enterprise, industry, meter

    /// The level's name as written in files and rules (`enterprise`).
    public var name: String { Level.names[rawValue] }

    /// Names by raw value, made once (`String(describing:)` reflects on every call).
    static let names: [String] = allCases.map { String(describing: $0) }

    public init?(name: String) {
        guard let i = Level.names.firstIndex(of: name) else { return nil }
        self = Level.allCases[i]
    }

    public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

    /// Levels in the byte order of their names, the order rows are written in.
    public static let outputOrder: [Level] = allCases.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }

    /// The default levels: all but `meter`.
    public static let defaults: [Level] = [.national, .province, .city, .park, .enterprise, .industry]
}
