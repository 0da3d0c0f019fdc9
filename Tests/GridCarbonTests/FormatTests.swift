import Testing
@testable import GridCarbonEngine
@testable import GridCarbonIO
@testable import GridCarbonModel

@Suite struct FormatTests {
    @Test func specExamples() {
        #expect(NumberFormat.string(64) == "64")
        #expect(NumberFormat.string(30.0258333333) == "30.025833")
        #expect(NumberFormat.string(0.5306) == "0.5306")
        #expect(NumberFormat.string(0) == "0")
        #expect(NumberFormat.string(-0.0) == "0")
        #expect(NumberFormat.string(-0.0000001) == "0")
        #expect(NumberFormat.string(0.0000005) == NumberFormat.reference(0.0000005))
        #expect(NumberFormat.string(1e12) == "1000000000000")
        #expect(NumberFormat.string(-2.5) == "-2.5")
    }

    /// The fast path agrees with glibc's `%.6f` on random values and on halfway cases.
    @Test func fastPathMatchesPrintf() {
        var rng = SplitMix(seed: 1)
        for i in 0..<300_000 {
            let v: Double
            switch i % 4 {
            case 0: v = Double(rng.next() % 10_000_000_000) / 1e6 + 0.0000005           // near halves
            case 1: v = Double(bitPattern: (rng.next() >> 2) | 0x3E00_0000_0000_0000) // wide spread
            case 2: v = Double(rng.next() % 1_000_000_000) / Double(1 + rng.next() % 1000)
            default: v = Double(rng.next() % 100_000_000) * 0.0000005                 // exact-ish halves
            }
            if v.isFinite { #expect(NumberFormat.string(v) == NumberFormat.reference(v), "\(v)") }
        }
    }

    @Test func jsonStringsAreEscaped() {
        var out: [UInt8] = []
        JSONBytes.appendString("a\"b\\c\nd\u{01}é", to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\nd\u0001é""#)
        out = []
        [UInt8]([0x61, 0xFF, 0x62]).withUnsafeBytes { JSONBytes.appendString($0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == "\"a\u{FFFD}b\"")
    }

    @Test func durations() {
        #expect(DurationFormat.parse("15m") == 15 * Time.microsPerMinute)
        #expect(DurationFormat.parse("1d") == Time.microsPerDay)
        #expect(DurationFormat.parse("90s") == 90 * Time.microsPerSecond)
        #expect(DurationFormat.parse("15") == nil && DurationFormat.parse("m") == nil && DurationFormat.parse("-1h") == nil)
        #expect(DurationFormat.format(Time.microsPerHour) == "1h")
        var s = EngineSettings()
        s.windows = [7 * Time.microsPerMinute]
        #expect(throws: SettingsError.self) { try s.validate() }
    }

    @Test func zones() {
        #expect(Zone(parsing: "+08:00")?.offsetSeconds == 28800)
        #expect(Zone(parsing: "Asia/Shanghai")?.offsetSeconds == 28800)
        #expect(Zone(parsing: "UTC-05:30")?.offsetSeconds == -19800)
        #expect(Zone(parsing: "Mars/Olympus") == nil)
        #expect(Zone(offsetSeconds: -19800, name: "x").offsetSuffix == "-05:30")
    }
}

@Suite struct CRC32Tests {
    @Test func knownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // Incremental equals whole, across the eight-byte steps.
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        for cut in [0, 1, 7, 8, 9, 500, 999] {
            let a = CRC32.checksum(Array(data[..<cut]))
            #expect(CRC32.checksum(Array(data[cut...]), seed: a) == CRC32.checksum(data))
        }
    }

    /// Command-line figures: fixed decimals, rounded half away from zero; for the values the
    /// messages print (non-negative, below 1e9) the same as scaling to a whole number of units.
    @Test func fixedDecimals() {
        #expect(NumberFormat.fixed(2.5, decimals: 0) == "3")
        #expect(NumberFormat.fixed(12, decimals: 0) == "12")
        #expect(NumberFormat.fixed(1234.5, decimals: 2) == "1234.50")
        #expect(NumberFormat.fixed(0.004, decimals: 2) == "0.00")
        #expect(NumberFormat.fixed(0.1 + 0.2, decimals: 1) == "0.3")
        #expect(NumberFormat.fixed(-0.5, decimals: 2) == "-0.50")
        func scaled(_ v: Double, _ decimals: Int) -> String {
            var p = 1.0
            for _ in 0..<decimals { p *= 10 }
            let n = Int64((v * p).rounded())
            var f = String(n % Int64(p))
            while f.count < decimals { f = "0" + f }
            return decimals == 0 ? String(n) : "\(n / Int64(p)).\(f)"
        }
        var rng = SplitMix(seed: 11)
        for i in 0..<20_000 {
            let v = Double(rng.next() % 1_000_000_000_000) / [1, 10, 1000, 1e6][i % 4]
            for d in 0...2 { #expect(NumberFormat.fixed(v, decimals: d) == scaled(v, d), "\(v) \(d)") }
        }
    }
}
