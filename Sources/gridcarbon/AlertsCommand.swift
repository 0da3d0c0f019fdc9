import ArgumentParser
import Foundation
import GridCarbonIO
import GridCarbonModel
import GridCarbonServer

struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Print the alert log as a table.",
        discussion: """
        DIR is a data folder (its alerts/ are read) or the alerts folder itself. Each row is one \
        event: an alert firing, changing severity, or resolving. `replay` and `serve` both write \
        the log; it is zstd NDJSON, so `zstdcat DIR/alerts/*.zst` shows the raw events.

        Examples:
          gridcarbon alerts gridcarbon-data
          gridcarbon alerts gridcarbon-data --active
          gridcarbon alerts gridcarbon-data --after 120 --json
        """
    )

    @Argument(help: ArgumentHelp("A data folder or its alerts/ folder.", valueName: "dir"))
    var path: String

    @Flag(help: "Only the alerts firing at the end of the log (the newest event of each id, when it is firing).")
    var active = false

    @Option(help: ArgumentHelp("Only events after this seq.", valueName: "seq"))
    var after: Int64 = 0

    @Flag(help: "Print the events as NDJSON lines.")
    var json = false

    func run() throws {
        let dir = Files.isDirectory(path + "/alerts") ? path + "/alerts" : path
        guard Files.isDirectory(dir) else {
            throw CommandError(.noSuchPath, "\(path): no such folder")
        }
        var entries: [AlertLogEntry]
        do {
            // The active set: from the snapshot at the last rotation (it holds alerts whose events
            // retention removed) and the events after it, when what follows it is kept.
            if active, let snapshot = AlertLog.readSnapshot(directory: dir), (AlertLog.oldestSeq(directory: dir) ?? 1) <= snapshot.seq + 1 {
                entries = try snapshot.entries + AlertLog.read(directory: dir, after: snapshot.seq)
            } else {
                entries = try AlertLog.read(directory: dir, after: active ? 0 : after)
            }
        } catch {
            throw CommandError(.unreadable, "\(error)")
        }
        var events: [(entry: AlertLogEntry, record: AlertRecord)] = entries.compactMap { e in
            AlertRecord.parse(e.line).map { (e, $0) }
        }
        if active {
            var newest: [String: Int] = [:]
            for (i, e) in events.enumerated() { newest[e.record.id] = i }
            events = newest.values.sorted().map { events[$0] }.filter { $0.record.state == "firing" && $0.entry.seq > after }
        }
        if json {
            for e in events { FileHandle.standardOutput.write(Data(e.entry.line)) }
            return
        }
        if events.isEmpty {
            print(active ? "no alert is firing" : "no alert events in \(dir)")
            return
        }
        let header = ["seq", "at", "state", "severity", "id", "value", "threshold", "message"]
        // Numbers as the log prints them; a null (not finite) value prints nothing.
        func number(_ v: Double?) -> String { v.map(NumberFormat.string) ?? "" }
        let rows = events.map { e -> [String] in
            let r = e.record
            return [String(e.entry.seq), r.resolved ? r.endsAt ?? "" : r.startsAt, r.state, r.severity, r.id,
                    number(r.value), number(r.threshold), r.message]
        }
        let table = TextTable(rows: [header] + rows, rightAligned: { $0 == 0 || $0 == 5 || $0 == 6 }, padsLastCell: false)
        for line in table.lines { print(line) }
    }
}
