import GridCarbonModel

/// The `o` (output) and `c` (contract) records the engine holds (reference §9.1), for the
/// indicators of §9.2 and §9.4.
///
/// An exact repeat replaces the earlier record: for `o` the same `level,key,start,end,unit`, for
/// `c` the same `enterprise,start,end,instrument`. Any other overlap is kept: records of one key
/// add up, pro rata over time, as `m` and `x` records do (a park's several green-power contracts
/// run side by side; a key's monthly and quarterly output are told apart by the period they cover).
public struct DualBook: Sendable, Equatable {
    /// One `o` record.
    public struct Output: Sendable, Equatable {
        public var level: Level
        public var key: String
        public var start: Micros
        public var end: Micros
        public var value: Double
        public var unit: String
    }

    /// One `c` record.
    public struct Contract: Sendable, Equatable {
        public var enterprise: String
        public var start: Micros
        public var end: Micros
        public var mwh: Double
        public var instrument: Instrument
    }

    struct OutputID: Hashable { var level: Int; var key: String; var start: Micros; var end: Micros; var unit: String }
    struct ContractID: Hashable { var enterprise: String; var start: Micros; var end: Micros; var instrument: Int }

    /// `o` records in arrival order (a repeat keeps the first one's place).
    public private(set) var outputs: [Output] = []
    /// `c` records in arrival order (a repeat keeps the first one's place).
    public private(set) var contracts: [Contract] = []
    var outputIndex: [OutputID: Int] = [:]
    var contractIndex: [ContractID: Int] = [:]

    public init() {}

    public static func == (a: DualBook, b: DualBook) -> Bool { a.outputs == b.outputs && a.contracts == b.contracts }

    /// Records an `o`; an exact repeat replaces the earlier value.
    public mutating func add(_ o: Output) {
        let id = OutputID(level: o.level.rawValue, key: o.key, start: o.start, end: o.end, unit: o.unit)
        if let i = outputIndex[id] {
            outputs[i].value = o.value
        } else {
            outputIndex[id] = outputs.count
            outputs.append(o)
        }
    }

    /// Records a `c`; an exact repeat replaces the earlier quantity.
    public mutating func add(_ c: Contract) {
        let id = ContractID(enterprise: c.enterprise, start: c.start, end: c.end, instrument: c.instrument.rawValue)
        if let i = contractIndex[id] {
            contracts[i].mwh = c.mwh
        } else {
            contractIndex[id] = contracts.count
            contracts.append(c)
        }
    }
}
