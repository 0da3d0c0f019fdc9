import Foundation
import Testing
@testable import GridCarbonStream

/// A publisher's life outside the happy path: made and dropped without publishing (a worker
/// restarted with nothing new to send), which libnats 3.4 cannot take a pending list from.
@Suite struct PublisherLifecycleTests {
    /// Dropping a publisher that never published must not touch libnats' pending map (a worker
    /// crashed on shutdown this way after a restart, in the cluster chaos run).
    @Test func aPublisherThatNeverPublishedIsDroppedCleanly() throws {
        let server = try NATSServerProcess(directory: temporaryDirectory("idle-publisher"))
        defer { server.kill() }
        let connection = try NATSConnection(urls: server.url)
        _ = try JetStream(connection).ensureStreams(StreamLayout(), partitions: 1, replicas: 1)
        var publisher: JetStreamPublisher? = try JetStreamPublisher(connection)
        let counts = try publisher!.finish()
        #expect(counts.messages == 0)
        publisher = nil
        // And one that published, then is dropped after its connection closed.
        let used = try JetStreamPublisher(connection)
        try Array("g\n".utf8).withUnsafeBytes { try used.publish(subject: "gridcarbon.grid", payload: $0, messageID: "life-1") }
        #expect(try used.finish().stored == 1)
        connection.close()
        #expect(connection.isClosed)
    }
}
