import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// Where `publish` sends a record line (reference §8): a meter's `r` and `i` records to its partition,
/// the grid records (`f`, `m`, and the §9 kinds `x`, `o`, `c`) to the grid subject.
///
/// Lines are checked by the engine's own parser, without a registry: `publish` rejects exactly
/// the lines `replay` would reject whatever the registry holds, with the same reason (a bad kind,
/// a wrong field count, bad JSON, a malformed meter id; for `f` and `m` every check, as they need
/// no registry; `x`, `o`, `c` likewise). What only the registry can decide (`unknown_meter`, and the
/// checks of a meter record that come after it) the workers decide.
public struct RecordRouter {
    /// Where a line goes.
    public enum Route: Equatable, Sendable {
        /// Blank, or a `#` comment.
        case skip
        case rejected(RejectReason)
        /// The meter's partition.
        case meter(Int)
        case grid
    }

    public let partitions: Int
    let parser: LineParser
    var record = ParsedRecord()
    static let meterKey = Array("meter".utf8)

    public init(partitions: Int) {
        self.partitions = partitions
        parser = LineParser(registry: Registry(meterLevel: false))
    }

    /// The route of `line` (without its newline).
    public mutating func route(_ line: UnsafeRawBufferPointer) -> Route {
        var n = line.count
        while n > 0 && (line[n - 1] == 0x0D || line[n - 1] == 0x20 || line[n - 1] == 0x09) { n -= 1 }
        var s = 0
        while s < n && (line[s] == 0x20 || line[s] == 0x09) { s += 1 }
        if s == n || line[s] == 0x23 { return .skip }
        let l = UnsafeRawBufferPointer(rebasing: line[s..<n])
        let json = l[0] == 0x7B
        switch parser.parse(l, into: &record) {
        case .skip:
            return .skip
        case .record:
            return .grid   // f, m, x, o, c: a meter record needs a registry to parse whole
        case .rejected(.unknownMeter):
            // A well-formed meter id: the registry is the workers' business.
            guard let id = json ? JSONScan.member(Self.meterKey, in: l) : Self.csvSecondField(l) else { return .rejected(.badMeterID) }
            return .meter(Partitioning.partition(meterID: id, count: partitions))
        case .rejected(let reason):
            return .rejected(reason)
        }
    }

    /// The meter id of a CSV `r`/`i` line: between the first and the second comma.
    static func csvSecondField(_ l: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard l.count > 2 else { return nil }
        var end = 2
        while end < l.count && l[end] != 0x2C { end += 1 }
        return UnsafeRawBufferPointer(rebasing: l[2..<end])
    }
}
