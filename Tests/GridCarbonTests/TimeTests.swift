import Testing
@testable import GridCarbonModel

@Suite struct TimeTests {
    @Test func civilRoundTrip() {
        for d in stride(from: -800_000, to: 800_000, by: 37) {
            let (y, m, dd) = Time.civilFromDays(d)
            #expect(Time.daysFromCivil(year: y, month: m, day: dd) == d)
        }
        #expect(Time.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Time.daysFromCivil(year: 2026, month: 11, day: 18) == 20775)
    }

    @Test func formatsLocalTime() {
        let f = TimeFormatter(zone: .shanghai)
        #expect(f.string(1_794_967_200 * 1_000_000) == "2026-11-18T10:00:00+08:00")
        #expect(f.string(-1) == "1970-01-01T07:59:59.999999+08:00")
    }
}
