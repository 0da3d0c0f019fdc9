import GridCarbonModel
import ArgumentParser
import GridCarbonStream

struct PartitionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partition",
        abstract: "Print the stream partition of meters: the subject gridcarbon.meter.<p> their records go to.",
        discussion: """
        The partition of a meter is FNV-1a (64 bits) of the bytes of its id, modulo the stream's \
        partition count P (docs/scale-out.md). Devices that publish themselves (over MQTT, to the \
        topic gridcarbon/meter/<p>) compute the same; this prints `meter partition`, a line each.

        Examples:
          gridcarbon partition --partitions 4 M1 meter-000001
          cut -d, -f1 registry.csv | tail -n +2 | xargs gridcarbon partition --partitions 4
        """
    )

    @Option(help: ArgumentHelp("The stream's partition count.", valueName: "P"))
    var partitions: Int

    @Argument(help: ArgumentHelp("Meter ids.", valueName: "meter"))
    var meters: [String]

    func validate() throws {
        if partitions < 1 { throw ValidationError("--partitions must be at least 1 (got \(partitions))") }
        if meters.isEmpty { throw ValidationError("give at least one meter id") }
    }

    func run() throws {
        for m in meters {
            print("\(m) \(Partitioning.partition(meterID: m, count: partitions))")
        }
    }
}
