import ArgumentParser
import GridCarbonIO

@main
struct GridCarbon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridcarbon",
        abstract: "Electricity-to-carbon stream processor: meter readings in, emissions per province, city, park, enterprise and industry out.",
        discussion: """
        gridcarbon applies time-varying provincial grid emission factors (China's published MEE/NBS \
        factors are built in) to smart-meter readings, and writes rolling aggregates as zstd CSV files \
        that DuckDB, pandas and zstdcat read as they are.

        Start here:
          gridcarbon simulate --meters 1000 --out sim
          gridcarbon replay --registry sim/registry.csv --data out sim/records.csv
          gridcarbon cat out --level province --window 1d
        """,
        subcommands: [ServeCommand.self, ReplayCommand.self, SimulateCommand.self, FactorsCommand.self, CatCommand.self, AlertsCommand.self,
                      PublishCommand.self, PartitionCommand.self]
    )

    /// Parses the command line and runs the command; every failure goes to ``ExitStatus``, which
    /// picks the exit status of §7 (0 success, 1 bad input data, 2 bad usage or configuration).
    static func main() async {
        let command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            ExitStatus.exit(for: error, command: nil)
        }
        do {
            if var c = command as? AsyncParsableCommand {
                try await c.run()
            } else {
                var c = command
                try c.run()
            }
        } catch {
            ExitStatus.exit(for: error, command: type(of: command).configuration.commandName)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
