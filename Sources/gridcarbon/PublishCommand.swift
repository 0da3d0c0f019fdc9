import ArgumentParser
import GridCarbonIO
import GridCarbonModel
import GridCarbonStream

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Send record lines into the NATS JetStream stream, partitioned by meter, each message acknowledged.",
        discussion: """
        Reads record lines like replay does (CSV or NDJSON; `.zst` decompressed; `-` reads standard \
        input) and sends them to the stream GRIDCARBON (reference §8, docs/scale-out.md):

          r, i lines            gridcarbon.meter.<p>, p = FNV-1a 64 of the meter id mod P
          f, m, x, o, c lines   gridcarbon.grid (every worker reads it whole)

        Lines are gathered per subject into messages of whole lines (up to --lines-per-message, \
        64 KB), sent in input order on one connection: for every partition, the stream holds its \
        lines and the grid lines in their input order. Each message has a stable Nats-Msg-Id made \
        from its content, so publishing the same input again stores nothing new (JetStream's \
        duplicate window is 10 minutes); the summary counts those duplicates.

        Creates the streams GRIDCARBON and GRIDCARBON_PARTIALS when missing, with --partitions \
        (default 1) and --replicas (default 1), both recorded in the stream; P is fixed from then \
        on. Lines that fail the parser's checks (those that need no registry: kind, fields, JSON, \
        meter id, and every check of f and m) are rejected with the reason replay would give, into \
        DATA/rejected/; the workers check the rest.

        Waits for every acknowledgement, then prints the counts. Exits 0 once the input is in the \
        stream (rejected lines do not make it fail), 1 when an input cannot be read, the servers \
        cannot be reached or a message is not stored after a minute of retries, 2 on bad options \
        or when --partitions differs from the stream's.

        Examples:
          nats-server -js -sd /var/lib/nats &
          gridcarbon publish --nats nats://127.0.0.1:4222 --partitions 4 sim/records.csv
          zstdcat day.csv.zst | gridcarbon publish --nats nats://a:4222,nats://b:4222,nats://c:4222 --replicas 3 -
          gridcarbon partition --partitions 4 M1 M2
        """
    )

    @Option(name: .customLong("nats"), help: ArgumentHelp("NATS server URL, or a comma-separated list of a cluster's.", valueName: "url"))
    var urls: String

    @Option(help: ArgumentHelp("Partitions P of a new stream (default 1); must match an existing stream's.", valueName: "P"))
    var partitions: Int?

    @Option(help: ArgumentHelp("Replicas R of new streams (3 for a 3-node cluster that may lose a node).", valueName: "R"))
    var replicas = 1

    @Option(help: ArgumentHelp("Folder for rejected lines. (default: ./gridcarbon-data)", valueName: "dir"))
    var data: String?

    @Option(name: .customLong("lines-per-message"),
            help: ArgumentHelp("Lines per message at most (message ids depend on it: re-send with the same value).", valueName: "n"))
    var linesPerMessage = 1000

    @Flag(name: .customLong("no-progress"), help: "Do not draw progress on a terminal.")
    var noProgress = false

    @Argument(help: ArgumentHelp("Record files in order (.zst decompressed, - for standard input).", valueName: "input"))
    var inputs: [String]

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one INPUT file (or - for standard input)") }
        if let p = partitions, !(1...1024).contains(p) { throw ValidationError("--partitions must be 1 to 1024 (got \(p))") }
        if !(1...5).contains(replicas) { throw ValidationError("--replicas must be 1 to 5, as JetStream allows (got \(replicas))") }
        if linesPerMessage < 1 { throw ValidationError("--lines-per-message must be at least 1") }
    }

    func run() async throws {
        let data = self.data ?? "./gridcarbon-data"
        var job = PublishJob(urls: urls, inputs: inputs, dataDirectory: data)
        job.partitions = partitions
        job.replicas = replicas
        job.maxLinesPerMessage = linesPerMessage
        let showProgress = !noProgress && Clock.stderrIsTerminal
        let line = ProgressLine()
        let publishJob = job
        let summary: PublishSummary
        do {
            summary = try await BlockingThread.run {
                try Publish.run(publishJob, progress: showProgress ? { p in
                    line.draw(at: p.seconds) {
                        let pct = p.fraction.map { " \(Int($0 * 100))%" } ?? ""
                        return "\(p.input)\(pct): \(Format.count(Int(p.lines))) lines, \(Format.rate(Double(p.lines) / max(p.seconds, 1e-9)))/s, \(Format.count(p.published)) sent, \(Format.count(p.rejected)) rejected"
                    }
                } : nil)
            }
        } catch {
            if showProgress { printError("\r\u{1B}[K") }
            throw error
        }
        if showProgress { printError("\r\u{1B}[K") }
        print(Self.summary(summary, data: data))
    }

    static func summary(_ s: PublishSummary, data: String) -> String {
        let c = Format.count
        var lines: [String] = []
        let stream = "P=\(s.partitions), R=\(s.replicas)\(s.createdStream ? ", created" : "")"
        lines.append("published \(c(Int(s.lines))) lines in \(NumberFormat.fixed(s.seconds, decimals: 2)) s: \(Format.rate(s.linesPerSecond)) lines/s (stream \(stream))")
        lines.append("  meter partitions  \(c(s.meterLines))")
        lines.append("  grid              \(c(s.gridLines))")
        lines.append("  rejected          \(c(s.rejected))   (reasons in \(data)/rejected/)")
        lines.append("  skipped           \(c(s.skipped))   (blank and # lines)")
        let p = s.publish
        var acks = "messages \(c(p.messages)) acknowledged: \(c(p.stored)) stored, \(c(p.duplicates)) duplicate (\(c(p.duplicateLines)) lines)"
        if p.resent > 0 { acks += ", \(c(p.resent)) sent again after a failure" }
        lines.append(acks)
        return lines.joined(separator: "\n")
    }
}

/// A progress line on standard error, redrawn at most four times a second.
final class ProgressLine: @unchecked Sendable {
    private var last = -1.0

    /// Draws `text()` unless the last draw was less than 0.25 s before `seconds`.
    func draw(at seconds: Double, _ text: () -> String) {
        if seconds - last < 0.25 { return }
        last = seconds
        printError("\r\u{1B}[K" + text())
    }
}
