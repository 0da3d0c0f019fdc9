import GridCarbonEngine
import GridCarbonModel

/// The record-line parser (reference §2.2) over every line of the input, with the invariants of
/// what it accepts checked.
enum FuzzLines {
    static let registry = try! Registry(csv: """
        meter_id,region,city,park,enterprise,industry,max_kw
        A,CN-GD,SZ,P1,E1,C,1000
        B,CN-GD,GZ,,E2,D,
        C,CN-YN,KM,,,C,
        T,CN-XZ,LS,,E3,C,
        """, origin: "fuzz")
    static let parser = LineParser(registry: registry)

    static func parse(_ line: UnsafeRawBufferPointer) {
        var rec = ParsedRecord()
        switch parser.parse(line, into: &rec) {
        case .record:
            precondition(rec.value.isFinite && rec.value >= 0, "accepted a value that is not a finite non-negative number")
            switch rec.kind {
            case .register: precondition(rec.meter >= 0 && Int(rec.meter) < registry.count, "meter out of range")
            case .interval: precondition(rec.meter >= 0 && rec.t1 > rec.t0, "interval without a meter or with end <= start")
            case .factor: precondition(rec.region > 0 && rec.t1 > rec.t0 && rec.value <= 10, "bad factor record")
            case .mix: precondition(rec.region > 0 && rec.t1 > rec.t0, "bad mix record")
            case .exchange: precondition(rec.region > 0 && rec.region2 > 0 && rec.region != rec.region2 && rec.t1 > rec.t0, "bad exchange record")
            case .output: precondition(Level(rawValue: Int(rec.aux)) != nil && rec.aux != UInt8(Level.meter.rawValue) && rec.t1 > rec.t0 && !parser.names.key.isEmpty && !parser.names.unit.isEmpty, "bad output record")
            case .contract: precondition(Instrument(rawValue: Int(rec.aux)) != nil && rec.t1 > rec.t0 && !parser.names.key.isEmpty, "bad contract record")
            }
        default: break
        }
    }

    /// Feeds every line of `data` to a fresh engine and closes the input.
    static func feed(_ data: UnsafeRawBufferPointer) {
        let engine = Engine(settings: EngineSettings(), registry: registry, sink: NullSink(), now: 0)
        var line: Int64 = 0
        let used = engine.ingest(data, source: 0, line: &line)
        if used < data.count { engine.ingestLine(UnsafeRawBufferPointer(rebasing: data[used...]), origin: LineOrigin(source: 0, line: line)) }
        engine.finish()
    }

    /// Calls `body` with each newline-separated line of `data`.
    static func eachLine(_ data: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        for i in 0..<data.count where data[i] == 0x0A {
            body(UnsafeRawBufferPointer(rebasing: data[start..<i]))
            start = i + 1
        }
        body(UnsafeRawBufferPointer(rebasing: data[start..<data.count]))
    }
}

/// CSV record lines (reference §2.2) through the line parser, with the invariants of what it
/// accepts checked. Parsing only, so that the fuzzer runs millions of inputs; `engine` feeds them on.
enum FuzzCSV {
    static func run(_ data: UnsafeRawBufferPointer) {
        FuzzLines.eachLine(data, FuzzLines.parse)
    }
}

/// Record lines (CSV and NDJSON) fed to a fresh engine and closed: what parses must not break the
/// sums behind it, and every line is counted once (reference §4.3). Slower per input than `csv`
/// and `ndjson` (an engine per input).
enum FuzzEngine {
    static func run(_ data: UnsafeRawBufferPointer) {
        FuzzLines.feed(data)
    }
}

/// NDJSON record lines (reference §2.2): each line is read as an object (a `{` is put in front of
/// lines that lack one, so the fuzzer spends its time inside the JSON reader).
enum FuzzNDJSON {
    static func run(_ data: UnsafeRawBufferPointer) {
        FuzzLines.eachLine(data) { line in
            if line.first == 0x7B {
                FuzzLines.parse(line)
            } else {
                let braced = [0x7B] + Array(line)
                braced.withUnsafeBytes { FuzzLines.parse($0) }
            }
        }
    }
}
