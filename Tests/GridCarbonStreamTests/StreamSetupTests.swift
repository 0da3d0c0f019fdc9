import Testing
@testable import GridCarbonStream

/// ensureStreams against a real single-node JetStream.
@Suite struct StreamSetupTests {
    @Test func createsThenReadsPartitionsAndRefusesAnother() throws {
        let server = try NATSServerProcess(directory: temporaryDirectory("setup"))
        let js = try JetStream(try NATSConnection(urls: server.url))
        let layout = StreamLayout()

        let created = try js.ensureStreams(layout, partitions: 4, replicas: 1)
        #expect(created == StreamSetup(partitions: 4, replicas: 1, created: true))
        let info = try #require(try js.streamInfo("GRIDCARBON"))
        #expect(info.description == "gridcarbon partitions=4 replicas=1")
        #expect(info.subjects == ["gridcarbon.meter.0", "gridcarbon.meter.1", "gridcarbon.meter.2", "gridcarbon.meter.3", "gridcarbon.grid"])
        #expect(info.replicas == 1)
        #expect(info.duplicateWindowSeconds >= 600)
        let partials = try #require(try js.streamInfo("GRIDCARBON_PARTIALS"))
        #expect(partials.subjects == ["gridcarbon.partial.>"])
        #expect(partials.duplicateWindowSeconds >= 600)
        #expect(partials.layout?.partitions == 4)

        // Without --partitions the stream's own P; the same P again is fine.
        #expect(try js.ensureStreams(layout, partitions: nil, replicas: 1) == StreamSetup(partitions: 4, replicas: 1, created: false))
        #expect(try js.ensureStreams(layout, partitions: 4, replicas: 1).partitions == 4)

        // Another P is refused, saying why.
        do {
            _ = try js.ensureStreams(layout, partitions: 2, replicas: 1)
            Issue.record("a different partition count was accepted")
        } catch {
            #expect(error.code == .partitionsMismatch)
            #expect(error.message.contains("has 4 partitions"))
            #expect(error.category == .badConfiguration)
        }
        #expect(try js.streamInfo("NO_SUCH_STREAM") == nil)
    }

    @Test func aStreamWithoutOurDescriptionIsNotTakenOver() throws {
        let foreign = StreamInfo(name: "GRIDCARBON", description: "", subjects: ["gridcarbon.>"], replicas: 1, messages: 0, bytes: 0,
                                 firstSequence: 0, lastSequence: 0, duplicateWindowSeconds: 120)
        #expect(throws: StreamError.self) { try JetStream.setup(of: foreign, asked: nil) }
        #expect(StreamLayout.parse(description: "gridcarbon partitions=8 replicas=3")! == (8, 3))
        #expect(StreamLayout.parse(description: "gridcarbon partitions=0 replicas=3") == nil)
    }

    @Test func anUnreachableServerIsAClearError() throws {
        let port = NATSServerProcess.freePort()
        do {
            _ = try NATSConnection(urls: "127.0.0.1:\(port)")
            Issue.record("connected to nothing")
        } catch {
            #expect(error.code == .unreachable)
            #expect(error.message.contains("cannot connect to NATS at 127.0.0.1:\(port)"))
        }
    }
}
