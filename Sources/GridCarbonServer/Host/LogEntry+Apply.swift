import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

extension LogEntry {
    /// Applies the entry to `engine` (live and on recovery: the same code) and returns the engine
    /// that carries on: a registry entry replaces it, every other entry returns `engine`.
    func apply(to engine: Engine, output: OutputDirectory) throws -> Engine {
        switch self {
        case .batch(let receivedAt, let now, let source, let lines):
            output.receivedAt = receivedAt
            engine.now = now
            var lineNo: Int64 = 1
            engine.ingest(lines, source: engine.source(named: source), line: &lineNo)
        case .rejectedLine(let receivedAt, let reason, let source, var line):
            output.receivedAt = receivedAt
            if line.last == 0x0A { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            engine.reject(reason, line: line, origin: LineOrigin(source: engine.source(named: source), line: 0))
        case .tables(let basis, let annualCSV, let sourcesCSV):
            do {
                let annual = try AnnualFactorTable(csv: String(decoding: annualCSV, as: UTF8.self), origin: "reloaded")
                let sources = try SourceFactorTable(csv: String(decoding: sourcesCSV, as: UTF8.self), basis: basis, origin: "reloaded")
                engine.replaceTables(annual: annual, sources: sources)
            } catch {
                throw HostError(.badLogEntry, "logged factor tables do not load: \(error)")
            }
        case .alerts(let json, let budgets):
            do {
                engine.configureAlerts(try AlertConfig.fromCanonical(json: String(decoding: json, as: UTF8.self),
                                                                     budgets: String(decoding: budgets, as: UTF8.self),
                                                                     engine: engine.settings))
            } catch {
                throw HostError(.badLogEntry, "logged alert rules do not load: \(error)")
            }
        case .watermark(let w, let receivedAt):
            output.receivedAt = receivedAt
            engine.advanceWatermark(to: w)
        case .stream(let seq, let receivedAt, let now, let payload):
            output.receivedAt = receivedAt
            engine.now = now
            // A redelivery of a message applied already changes nothing.
            guard seq > engine.lastStreamSeq else { break }
            if let w = StreamPayload.idleTick(payload) {
                engine.advanceWatermark(to: w)
            } else {
                var lineNo: Int64 = 1
                engine.ingestPayload(payload, source: engine.source(named: StreamPayload.sourceName(engine.role)), line: &lineNo)
            }
            engine.lastStreamSeq = seq
            if let batch = engine.takePartialBatch(streamSeq: seq) { engine.sink.partial(batch) }
        case .partial(let seq, let bytes):
            guard seq > engine.lastStreamSeq else { break }
            engine.lastStreamSeq = seq
            do {
                try engine.mergePartial(try PartialBatch(decoding: bytes))
            } catch {
                // Refused (another registry or configuration, or not a batch): counted and
                // reported, the same way on replay, never a reason to stop recovering.
                engine.sink.partialRefused(seq: seq, reason: "\(error)")
            }
        case .grid(let seq, let receivedAt, let lines):
            output.receivedAt = receivedAt
            engine.mergeGrid(seq: seq, lines: lines)
        case .gridThrough(let seq):
            engine.mergeGridThrough(seq)
        case .registry(let csv):
            let fresh = try Registry(csv: Array(csv), origin: "registry", meterLevel: engine.settings.levels.contains(.meter), scope: engine.role.meterScope)
            return Self.replaceRegistry(of: engine, by: fresh, output: output)
        }
        return engine
    }

    /// A registry entry's effect, given the registry already parsed.
    static func replaceRegistry(of engine: Engine, by fresh: Registry, output: OutputDirectory) -> Engine {
        let next = engine.replacingRegistry(with: fresh).engine
        output.registry = next.registry
        return next
    }

    /// Decodes `payload` and applies it (``apply(to:output:)``).
    static func apply(_ payload: UnsafeRawBufferPointer, to engine: Engine, output: OutputDirectory) throws -> Engine {
        let entry: LogEntry
        do { entry = try LogEntry(decoding: payload) } catch {
            throw HostError(.badLogEntry, "write-ahead log entry does not decode: \(error)")
        }
        return try entry.apply(to: engine, output: output)
    }
}
