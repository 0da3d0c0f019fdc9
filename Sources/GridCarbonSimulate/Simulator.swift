import GridCarbonModel
import GridCarbonIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a simulation wrote.
public struct SimulationSummary: Sendable, Equatable {
    public var meters = 0
    /// Meters that send `i` interval records.
    public var intervalMeters = 0
    public var enterprises = 0
    /// Every line of the records file.
    public var lines = 0
    /// Meter records (`r` and `i`), first copies only.
    public var readings = 0
    /// `f` and `m` lines.
    public var factorLines = 0
    /// Repeated meter records.
    public var duplicates = 0
    /// Malformed lines injected.
    public var badLines = 0
    /// Register resets (meter replacements) injected.
    public var resets = 0
    /// Silences of 1–6 h injected.
    public var gaps = 0
    /// Bytes of records before compression.
    public var bytes = 0
    public var registryPath: String?
    public var recordsPath: String?
    /// Wall time of the run, seconds.
    public var seconds: Double = 0

    public init() {}
}

/// Kinds of malformed lines the generator injects.
public enum BadLineKind: UInt8, CaseIterable, Sendable {
    case badNumber, badTimestamp, unknownMeter, tooFewFields, garbage, badKind
}

/// One line waiting for its arrival time.
struct Rec {
    /// Arrival, seconds since the epoch: the order lines are written in.
    var arrival: Int64
    /// `ts` (`r`) or `start` (`i`, `f`, `m`), seconds.
    var t0: Int64
    /// Cents of kWh (`r`, `i`), 1e-4 kg/kWh (`f`), 0.1 MWh (`m`).
    var value: Int64
    /// Meter index (`r`, `i`, bad) or region index (`f`, `m`).
    var id: Int32
    /// `end - start`, seconds (0 for `r`, and for bad lines that mimic an `r`).
    var dur: Int32
    var kind: UInt8
    var style: UInt8
    /// Source (`m`) or ``BadLineKind`` (bad).
    var aux: UInt8
    /// Variant of a bad line.
    var variant: UInt8

    static let register: UInt8 = 0, interval: UInt8 = 1, factor: UInt8 = 2, mix: UInt8 = 3, bad: UInt8 = 4
}

/// A growable buffer of records in raw memory.
struct RecBuffer {
    var p: UnsafeMutablePointer<Rec>
    var count = 0
    var capacity: Int

    init(capacity: Int) {
        self.capacity = max(16, capacity)
        p = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    mutating func append(_ r: Rec) {
        if count == capacity { reserve(capacity * 2) }
        p[count] = r
        count &+= 1
    }

    mutating func reserve(_ n: Int) {
        if n <= capacity { return }
        let q = UnsafeMutablePointer<Rec>.allocate(capacity: n)
        q.moveInitialize(from: p, count: count)
        p.deallocate()
        p = q
        capacity = n
    }

    func free() { p.deallocate() }
}

/// Generates a synthetic fleet's registry and records (§2), deterministic for a seed.
///
/// Records are generated in time order — for each interval, for each meter — and written in
/// arrival order: a record waits in a buffer until every record that could arrive before it has
/// been generated, so memory stays proportional to the number of meters, not to the lines.
public struct Simulator: Sendable {
    public let options: SimulationOptions
    public let fleet: Fleet

    public init(options: SimulationOptions) throws(SimulationError) {
        try options.validate()
        self.options = options
        self.fleet = Fleet(meters: options.meters, seed: options.seed, idShapes: options.meterIDShapes)
    }

    /// The registry CSV (`meter_id,region,city,park,enterprise,industry,max_kw`).
    public func registryCSV() -> [UInt8] { fleet.registryCSV() }

    /// The records, in memory (for tests and small fleets).
    public func records() -> (bytes: [UInt8], summary: SimulationSummary) {
        var out: [UInt8] = []
        let summary = try! writeRecords { out.append(contentsOf: $0) }
        return (out, summary)
    }

    /// Writes the registry (when `registryPath` is given) and the records to files; `.zst` names
    /// (or `compress: true`) are zstd-compressed, `-` is standard output.
    public func run(registryPath: String?, recordsPath: String, compress: Bool? = nil) throws -> SimulationSummary {
        let t0 = Self.monotonic()
        if let registryPath {
            let f = try OutputFile(path: registryPath)
            try f.write(registryCSV())
            try f.close()
        }
        // zstd level 1: about twice as fast as 3 and, on these records, smaller.
        let out = BackgroundWriter(file: try OutputFile(path: recordsPath, compress: compress, level: 1))
        var summary = try writeRecords { try out.write($0) }
        try out.close()
        summary.registryPath = registryPath
        summary.recordsPath = recordsPath
        summary.seconds = Double(Self.monotonic() - t0) / 1e9
        return summary
    }

    static func monotonic() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    // MARK: - Factor feeds

    /// Provinces with real-time `f` factors: (region, annual-average-like base, kg/kWh).
    static let factorProvinces: [(String, Double)] = [("CN-GD", 0.4419), ("CN-JS", 0.5827), ("CN-ZJ", 0.4974), ("CN-SD", 0.6191)]
    /// Provinces with `m` generation mix: (region, mean MWh per hour, shares of hydro, coal, wind, solar, gas).
    static let mixProvinces: [(String, Double, [Double])] = [
        ("CN-YN", 45_000, [0.72, 0.14, 0.09, 0.04, 0.01]),
        ("CN-SC", 52_000, [0.78, 0.13, 0.04, 0.02, 0.03]),
        ("CN-NM", 85_000, [0.01, 0.70, 0.20, 0.07, 0.02]),
        ("CN-QH", 11_000, [0.48, 0.07, 0.17, 0.27, 0.01]),
    ]
    static let mixSources: [Source] = [.hydro, .coal, .wind, .solar, .gas]

    /// Solar output at local hour `h` (the hour's midpoint), 0 at night, peak 1 at noon.
    static func solar(_ h: Int) -> Double {
        let x = Double(h) + 0.5
        return x > 6 && x < 18 ? sin(Double.pi * (x - 6) / 12) : 0
    }

    /// Provincial demand at local hour `h`, mean about 1: low at night, morning and evening peaks.
    static func demand(_ h: Int) -> Double {
        let x = Double(h) + 0.5
        return 0.82 + 0.18 * exp(-pow((x - 11) / 2.5, 2)) * 1.4 + 0.25 * exp(-pow((x - 19.5) / 2.2, 2))
    }

    // MARK: - Records

    /// Generates the records and hands them to `sink` in chunks of about 1 MiB.
    public func writeRecords(to sink: (UnsafeRawBufferPointer) throws -> Void) throws -> SimulationSummary {
        try withoutActuallyEscaping(sink) { sink in
            var g = RecordGenerator(options: options, fleet: fleet, sink: sink)
            defer { g.free() }
            return try g.run()
        }
    }
}
