import ArgumentParser
import Foundation
import GridCarbonIO
import GridCarbonModel

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
        do { entries = try AlertLog.read(directory: dir, after: active ? 0 : after) } catch {
            throw CommandError(.unreadable, "\(error)")
        }
        var events: [(entry: AlertLogEntry, fields: [String: Any])] = entries.compactMap { e in
            guard let o = try? JSONSerialization.jsonObject(with: Data(e.line)) as? [String: Any] else { return nil }
            return (e, o)
        }
        if active {
            var newest: [String: Int] = [:]
            for (i, e) in events.enumerated() { newest[e.fields["id"] as? String ?? ""] = i }
            events = newest.values.sorted().map { events[$0] }.filter { ($0.fields["state"] as? String) == "firing" && $0.entry.seq > after }
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
        func text(_ v: Any?) -> String {
            switch v {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue
            default: return ""
            }
        }
        let rows = events.map { e -> [String] in
            let f = e.fields
            let at = (f["state"] as? String) == "resolved" ? text(f["ends_at"]) : text(f["starts_at"])
            return [String(e.entry.seq), at, text(f["state"]), text(f["severity"]), text(f["id"]), text(f["value"]), text(f["threshold"]), text(f["message"])]
        }
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count - 1 { widths[i] = max(widths[i], c.count) } }
        for r in all {
            var line = ""
            for (i, c) in r.enumerated() {
                if i == r.count - 1 { line += c; break }
                let numeric = i == 0 || i == 5 || i == 6
                let pad = String(repeating: " ", count: widths[i] - c.count)
                line += (numeric ? pad + c : c + pad) + "  "
            }
            print(line)
        }
    }
}
