import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

/// `gridcarbon publish` (reference §8): record files into the stream, each line routed to its subject,
/// in input order, every message acknowledged.
public enum Publish {
    /// Connects, makes sure the streams exist, reads every input in order, sends its lines and
    /// waits for every acknowledgement. Blocks: call it from a thread of your own.
    /// - Throws: `IOError` for an input that cannot be read, ``StreamError`` when the servers
    ///   cannot be reached, refuse the streams, do not store a message, or the stream has another `P`.
    public static func run(_ job: PublishJob, progress: ((PublishProgress) -> Void)? = nil) throws -> PublishSummary {
        let t0 = Clock.monotonic()
        for input in job.inputs where input != "-" && !Files.exists(input) {
            throw IOError(.missing, path: input, message: "no such file")
        }
        let connection = try NATSConnection(urls: job.urls, options: job.connection)
        defer { connection.close() }
        let setup = try JetStream(connection).ensureStreams(job.layout, partitions: job.partitions, replicas: job.replicas)
        let publisher = try JetStreamPublisher(connection, options: job.publisher)
        // Room for the headers (message id, order guard) within the server's payload limit.
        let payloadLimit = max(1024, connection.maxPayload - 1024)
        let subjects = job.layout.subjects(partitions: setup.partitions)
        let batcher = MessageBatcher(layout: job.layout, partitions: setup.partitions, maxLines: job.maxLinesPerMessage,
                                     maxBytes: min(job.maxBytesPerMessage, payloadLimit)) { index, payload, id, lines in
            try publisher.publish(subject: subjects[index], payload: payload, messageID: id, lines: lines)
        }
        let sink = PublishLines(router: RecordRouter(partitions: setup.partitions), batcher: batcher, dataDirectory: job.dataDirectory,
                                runName: Replay.runStamp(Clock.now()),
                                summary: PublishSummary(partitions: setup.partitions, replicas: setup.replicas, createdStream: setup.created))
        var bytes = 0
        var lines: Int64 = 0
        for input in job.inputs {
            let reader = InputReader(path: input, maxLineBytes: min(job.maxLineBytes, payloadLimit))
            sink.begin(sourceName: input == "-" ? "stdin" : input)
            try reader.read(into: sink) { r in
                progress?(PublishProgress(input: input, lines: lines + r.lines, fraction: r.size > 0 ? Double(r.bytesRead) / Double(r.size) : nil,
                                          published: sink.summary.meterLines + sink.summary.gridLines,
                                          rejected: sink.summary.rejected, seconds: Clock.monotonic() - t0))
            }
            bytes += reader.bytesRead
            lines += reader.lines
            try sink.flushRejects()
        }
        try batcher.flushAll()
        var summary = sink.summary
        summary.publish = try publisher.finish()
        summary.lines = lines
        summary.bytes = bytes
        summary.seconds = Clock.monotonic() - t0
        return summary
    }
}
