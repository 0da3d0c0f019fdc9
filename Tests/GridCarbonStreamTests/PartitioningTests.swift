import GridCarbonModel
import Testing
@testable import GridCarbonStream

@Suite struct PartitioningTests {
    /// The golden values of docs/scale-out.md: devices compute the same.
    @Test func goldenValues() {
        #expect(Partitioning.fnv1a64(UnsafeRawBufferPointer(start: nil, count: 0)) == 0xcbf2_9ce4_8422_2325)
        let cases: [(String, UInt64, Int)] = [
            ("M1", 0x0916_0b07_b5ac_93cb, 3),
            ("M2", 0x0916_0c07_b5ac_957e, 2),
            ("meter-000001", 0x50e5_6d6f_007a_2942, 2),
            ("BJ-0001", 0x8087_1b6f_51ab_de23, 3),
        ]
        for (id, hash, p4) in cases {
            var s = id
            let h = s.withUTF8 { Partitioning.fnv1a64(UnsafeRawBufferPointer($0)) }
            #expect(h == hash, "\(id)")
            #expect(Partitioning.partition(meterID: id, count: 4) == p4, "\(id)")
            #expect(Partitioning.partition(meterID: id, count: 1) == 0)
        }
    }
}
