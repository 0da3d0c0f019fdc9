import ArgumentParser

@main
struct GridCarbon: ParsableCommand {
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
        subcommands: [ReplayCommand.self, FactorsCommand.self, CatCommand.self]
    )
}
