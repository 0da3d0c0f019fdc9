import ArgumentParser

@main
struct GridCarbon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridcarbon",
        abstract: "Electricity-to-carbon stream processor.",
        subcommands: []
    )
}
