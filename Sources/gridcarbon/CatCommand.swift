import ArgumentParser
import GridCarbonIO
import GridCarbonModel

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Print aggregate files as a table.",
        discussion: """
        DIR is a data folder (its aggregates/ are read) or any folder below it; FILE is one \
        .csv.zst aggregate file. Filters narrow the rows.

        Examples:
          gridcarbon cat gridcarbon-data --level province --window 1d
          gridcarbon cat gridcarbon-data --level enterprise --key E000123 --window 1h
          gridcarbon cat gridcarbon-data/aggregates/window=15m/date=2026-11-18/1015.csv.zst
        """
    )

    @Argument(help: ArgumentHelp("A data folder, a folder below it, or one .csv.zst file.", valueName: "dir|file"))
    var path: String

    @Option(help: "Only this level (national, province, city, park, enterprise, industry, meter).")
    var level: String?

    @Option(help: "Only this key (CN-GD, an enterprise id, an industry code, ...).")
    var key: String?

    @Option(help: "Only this window length (15m, 1h, 1d).")
    var window: String?

    @Flag(help: "Print CSV instead of an aligned table.")
    var csv = false

    func run() throws {
        var files: [String]
        if Files.isDirectory(path) {
            let base = Files.isDirectory(path + "/aggregates") ? path + "/aggregates" : path
            files = try Files.walk(base, suffix: ".csv.zst")
        } else if Files.exists(path) {
            files = [path]
        } else {
            throw CommandError(.noSuchPath, "\(path): no such file or folder")
        }
        if let window {
            files = files.filter { $0.contains("window=\(window)/") || !$0.contains("window=") }
        }
        if let level, Level(name: level) == nil { throw ValidationError("--level '\(level)' is not one of national, province, city, park, enterprise, industry, meter") }
        var header: [String] = []
        var rows: [[String]] = []
        for f in files {
            let text: String
            do {
                let bytes = try Files.read(f)
                // Not "truncated": a file of 0 bytes holds no zstd frame at all.
                if bytes.isEmpty { throw CommandError(.unreadable, "\(f): empty file (0 bytes), not a zstd aggregate file") }
                text = String(decoding: try Zstd.decompress(bytes), as: UTF8.self)
            } catch let e as CommandError {
                throw e
            } catch {
                throw CommandError(.unreadable, "\(f): \(error)")
            }
            var lines = text.split(separator: "\n")
            if lines.isEmpty { continue }
            header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for l in lines {
                let cols = l.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if let level, cols.count > 2, cols[2] != level { continue }
                if let key, cols.count > 3, cols[3] != key { continue }
                rows.append(cols)
            }
        }
        if header.isEmpty {
            throw CommandError(.noData, "no aggregate files under \(path)")
        }
        if csv {
            print(header.joined(separator: ","))
            for r in rows { print(r.joined(separator: ",")) }
            return
        }
        // Columns from energy_kwh on are numbers.
        for line in TextTable(rows: [header] + rows, rightAligned: { $0 >= 4 }).lines { print(line) }
    }
}
