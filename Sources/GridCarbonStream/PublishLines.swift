import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

#if canImport(Glibc)
import Glibc
#endif

/// `publish`'s ``LineSink``: routes each line (``RecordRouter``), batches it for its subject
/// (``MessageBatcher``), and writes rejected lines to `DATA/rejected/` exactly as `replay` does
/// (its ``OutputDirectory``, opened on the first rejected line).
final class PublishLines: LineSink {
    var router: RecordRouter
    let batcher: MessageBatcher
    let dataDirectory: String
    let runName: String
    /// Source names, for the rejected lines' `source` (`records.csv:17`).
    var sources: [String] = []
    var source: Int32 = 0
    var rejects: OutputDirectory?
    var summary: PublishSummary

    init(router: RecordRouter, batcher: MessageBatcher, dataDirectory: String, runName: String, summary: PublishSummary) {
        self.router = router
        self.batcher = batcher
        self.dataDirectory = dataDirectory
        self.runName = runName
        self.summary = summary
    }

    /// Starts the next input.
    func begin(sourceName: String) {
        sources.append(sourceName)
        source = Int32(sources.count - 1)
        rejects?.receivedAt = Clock.now()
    }

    func lines(_ buffer: UnsafeRawBufferPointer, line: inout Int64) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        rejects?.receivedAt = Clock.now()
        var start = 0
        let n = buffer.count
        while start < n {
            guard let nl = memchr(base + start, 0x0A, n - start) else { break }
            let end = base.distance(to: UnsafeRawPointer(nl))
            try take(UnsafeRawBufferPointer(start: base + start, count: end - start), number: line)
            line += 1
            start = end + 1
        }
        return start
    }

    func lastLine(_ line: UnsafeRawBufferPointer, number: Int64) throws {
        try take(line, number: number)
    }

    func tooLong(_ prefix: UnsafeRawBufferPointer, number: Int64) throws {
        try reject(.lineTooLong, prefix, number: number)
    }

    func take(_ line: UnsafeRawBufferPointer, number: Int64) throws {
        switch router.route(line) {
        case .skip:
            summary.skipped += 1
        case .meter(let p):
            summary.meterLines += 1
            try batcher.add(line, to: p)
        case .grid:
            summary.gridLines += 1
            try batcher.add(line, to: batcher.grid)
        case .rejected(let reason):
            try reject(reason, line, number: number)
        }
    }

    func reject(_ reason: RejectReason, _ line: UnsafeRawBufferPointer, number: Int64) throws {
        summary.rejected += 1
        if rejects == nil {
            let out = try OutputDirectory(root: dataDirectory, zone: EngineSettings().zone, registry: Registry(meterLevel: false),
                                          runName: runName, sync: true)
            out.sourceNames = { [unowned self] in sources }
            out.receivedAt = Clock.now()
            rejects = out
        }
        rejects!.rejected(reason, line: line, origin: LineOrigin(source: source, line: number))
    }

    /// Writes the rejected lines gathered so far.
    func flushRejects() throws {
        try rejects?.flush()
    }
}
