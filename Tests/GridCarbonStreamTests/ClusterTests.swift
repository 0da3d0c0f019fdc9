import GridCarbonModel
import Foundation
import GridCarbonIO
import Testing
@testable import GridCarbonStream

/// A 3-node JetStream cluster on loopback, streams replicated 3 times: losing a node loses nothing
/// and stops nothing (reference §8).
@Suite(.serialized) struct ClusterTests {
    @Test func publishAndFetchGoOnAfterANodeIsKilled() throws {
        let dir = temporaryDirectory("cluster")
        let cluster = try NATSCluster(directory: dir)
        defer { cluster.kill() }
        let first = try writeFile(dir, "first.csv", PublishCommandTests.input)
        let r1 = try GridCarbonBinary.run(["publish", "--nats", cluster.urls, "--partitions", "4", "--replicas", "3", "--data", dir + "/data", "--no-progress", first])
        #expect(r1.status == 0, "\(r1.err)")
        #expect(r1.out.contains("P=4, R=3, created"))
        do {
            let js = try JetStream(try NATSConnection(urls: cluster.urls))
            #expect(try js.streamInfo("GRIDCARBON")?.replicas == 3)
            #expect(try js.streamInfo("GRIDCARBON_PARTIALS")?.replicas == 3)
        }

        cluster.nodes[0].kill()
        let more = (0..<200).map { "r,M\($0 % 7),2026-11-18T11:\(String(format: "%02d", $0 % 60)):00+08:00,\($0)" }
        let second = try writeFile(dir, "second.csv", more.joined(separator: "\n") + "\n")
        let r2 = try GridCarbonBinary.run(["publish", "--nats", cluster.urls, "--data", dir + "/data", "--no-progress", second])
        #expect(r2.status == 0, "\(r2.err)")
        #expect(r2.out.contains("200 stored") || count("meter partitions", in: r2.out) == 200, "\(r2.out)")

        let js = try JetStream(try NATSConnection(urls: cluster.urls))
        let expected = PublishCommandTests.expected()
        for p in 0..<4 {
            let subject = "gridcarbon.meter.\(p)"
            let wanted = (expected[subject] ?? []) + more.filter { Partitioning.partition(meterID: String($0.split(separator: ",")[1]), count: 4) == p }
            #expect(try readBack(js, subject: subject).map(\.line) == wanted, "\(subject)")
        }
        #expect(try readBack(js, subject: "gridcarbon.grid").map(\.line) == expected["gridcarbon.grid"])
    }

    enum Victim: CustomStringConvertible { case connectedNode, streamLeader
        var description: String { self == .connectedNode ? "the node the publisher is connected to" : "the stream's leader" }
    }

    /// A node dies in the middle of publishing: the one the publisher is connected to (it
    /// reconnects elsewhere and sends again what was not acknowledged), or the stream's leader
    /// (a new one is elected; what the old one did not store is refused or lost, and sent again).
    /// The stream holds every message once, in order.
    @Test(arguments: [Victim.connectedNode, .streamLeader])
    func killingANodeWhilePublishingLosesNothingAndKeepsOrder(_ victim: Victim) throws {
        let cluster = try NATSCluster(directory: temporaryDirectory("cluster-kill"))
        defer { cluster.kill() }
        let connection = try NATSConnection(urls: cluster.urls)
        let js = try JetStream(connection)
        _ = try js.ensureStreams(StreamLayout(), partitions: 2, replicas: 3)
        let publisher = try JetStreamPublisher(connection)
        let total = 3000
        for i in 0..<total {
            if i == 1000 {
                switch victim {
                case .connectedNode:
                    let url = try #require(connection.connectedURL)
                    try #require(cluster.nodes.first { url.hasSuffix(":\($0.port)") }).kill()
                case .streamLeader:
                    let leader = try #require(try js.streamInfo("GRIDCARBON")?.leader)
                    try #require(cluster.nodes.first { $0.name == leader }).kill()
                }
            }
            let payload = Array("\(i)\n".utf8)
            try payload.withUnsafeBytes { try publisher.publish(subject: "gridcarbon.meter.\(i % 2)", payload: $0, messageID: "kill-\(i)") }
        }
        let counts = try publisher.finish()
        #expect(counts.messages == total)
        #expect(counts.outOfOrder == 0)
        let check = try JetStream(try NATSConnection(urls: cluster.urls))
        let stored = try readBack(check, subject: "gridcarbon.meter.0") + readBack(check, subject: "gridcarbon.meter.1")
        #expect(stored.sorted { $0.sequence < $1.sequence }.map(\.line) == (0..<total).map { "\($0)" })
    }
}
