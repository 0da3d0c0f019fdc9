import Testing
@testable import GridCarbonStream

/// Pull consumers against a real single-node JetStream.
@Suite struct PullConsumerTests {
    /// Ten messages `0\n` ... `9\n` on the grid subject; the JetStream context.
    func filled() throws -> (NATSServerProcess, JetStream) {
        let server = try NATSServerProcess(directory: temporaryDirectory("consumer"))
        let connection = try NATSConnection(urls: server.url)
        let js = try JetStream(connection)
        _ = try js.ensureStreams(StreamLayout(), partitions: 2, replicas: 1)
        let publisher = try JetStreamPublisher(connection)
        for i in 0..<10 {
            let payload = Array("\(i)\n".utf8)
            try payload.withUnsafeBytes { try publisher.publish(subject: "gridcarbon.grid", payload: $0, messageID: "m\(i)") }
        }
        let counts = try publisher.finish()
        #expect(counts.stored == 10 && counts.lastSequence == 10 && counts.outOfOrder == 0)
        return (server, js)
    }

    @Test func deliversAllWithMetadataThenFromAStartSequence() throws {
        let (server, js) = try filled()
        defer { server.kill() }
        let consumer = try PullConsumer(js, settings: ConsumerSettings(stream: "GRIDCARBON", durable: "all", filterSubject: "gridcarbon.grid"))
        let batch = try consumer.fetch(max: 100, timeoutMillis: 2000)
        #expect(batch.map(\.streamSequence) == Array(1...10))
        #expect(batch.map { $0.withPayload { String(decoding: $0, as: UTF8.self) } } == (0..<10).map { "\($0)\n" })
        #expect(batch.map(\.numPending) == (0..<10).map { UInt64(9 - $0) })
        #expect(batch.allSatisfy { $0.numDelivered == 1 && $0.subject == "gridcarbon.grid" && $0.timestampNanos > 0 })
        #expect(batch[3].header("Nats-Msg-Id") == "m3")
        for m in batch { try consumer.ack(m) }
        #expect(try consumer.fetch(max: 10, timeoutMillis: 200).isEmpty)

        var from6 = ConsumerSettings(stream: "GRIDCARBON", durable: "from6", filterSubject: "gridcarbon.grid")
        from6.start = .sequence(6)
        let late = try PullConsumer(js, settings: from6)
        #expect(try late.fetch(max: 100, timeoutMillis: 2000).map(\.streamSequence) == [6, 7, 8, 9, 10])
    }

    @Test func aDurableKeepsItsPositionAndIsRepointedByRecreate() throws {
        let (server, js) = try filled()
        defer { server.kill() }
        var settings = ConsumerSettings(stream: "GRIDCARBON", durable: "worker-grid", filterSubject: "gridcarbon.grid")
        settings.acknowledgement = .all
        do {
            let c = try PullConsumer(js, settings: settings)
            let first = try c.fetch(max: 4, timeoutMillis: 2000)
            #expect(first.map(\.streamSequence) == [1, 2, 3, 4])
            try c.ackSync(first.last!)   // ack-all: 1 to 4
            #expect(try c.state().ackFloorStreamSequence == 4)
        }
        // Bound again (a restart): it goes on after 4.
        do {
            let c = try PullConsumer(js, settings: settings)
            #expect(try c.fetch(max: 2, timeoutMillis: 2000).map(\.streamSequence) == [5, 6])
        }
        // A worker re-points it to its checkpoint.
        settings.start = .sequence(3)
        let c = try PullConsumer(js, settings: settings, recreate: true)
        #expect(try c.fetch(max: 100, timeoutMillis: 2000).map(\.streamSequence) == Array(3...10))
    }

    @Test func anUnacknowledgedMessageComesAgainAfterTheAckWait() throws {
        let (server, js) = try filled()
        defer { server.kill() }
        var settings = ConsumerSettings(stream: "GRIDCARBON", durable: "slow", filterSubject: "gridcarbon.grid")
        settings.ackWaitSeconds = 0.5
        let c = try PullConsumer(js, settings: settings)
        let first = try c.fetch(max: 1, timeoutMillis: 2000)
        #expect(first.map(\.numDelivered) == [1])
        usleep(800_000)
        let again = try c.fetch(max: 1, timeoutMillis: 2000)
        #expect(again.map(\.streamSequence) == [1])
        #expect(again.map(\.numDelivered) == [2])
        #expect(try c.state().numRedelivered >= 1)
    }
}

#if canImport(Glibc)
import Glibc
#endif
