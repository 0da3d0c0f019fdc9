import GridCarbonModel
import CNats
import Foundation
import GridCarbonIO
import Testing
@testable import GridCarbonStream

/// The order the stream keeps: per partition, its lines and the grid lines as in the input;
/// the publisher's own messages in order even with another publisher in between.
@Suite struct PublishOrderTests {
    /// 3,000 lines of 40 meters, an `f` line every 97 lines, batched 7 lines a message.
    @Test func eachPartitionWithTheGridFollowsTheInput() throws {
        let dir = temporaryDirectory("order")
        let server = try NATSServerProcess(directory: dir + "/nats")
        defer { server.kill() }
        var lines: [String] = []
        for i in 0..<3000 {
            if i % 97 == 0 { lines.append("f,CN-GD,2026-11-18T10:00:00+08:00,2026-11-18T10:15:00+08:00,0.\(i)") }
            else { lines.append("r,M\(i % 40),2026-11-18T10:00:00+08:00,\(i)") }
        }
        let file = try writeFile(dir, "records.csv", lines.joined(separator: "\n") + "\n")
        var job = PublishJob(urls: server.url, inputs: [file], dataDirectory: dir + "/data")
        job.partitions = 3
        job.maxLinesPerMessage = 7
        let summary = try Publish.run(job)
        #expect(summary.meterLines + summary.gridLines == 3000)
        #expect(summary.publish.outOfOrder == 0)
        #expect(summary.publish.stored == summary.publish.messages)

        let js = try JetStream(try NATSConnection(urls: server.url))
        let grid = try readBack(js, subject: "gridcarbon.grid")
        for p in 0..<3 {
            let meter = try readBack(js, subject: "gridcarbon.meter.\(p)")
            #expect(Dictionary(grouping: meter, by: \.sequence).values.allSatisfy { $0.count <= 7 })
            let merged = (meter + grid).sorted { $0.sequence < $1.sequence }.map(\.line)
            let wanted = lines.filter { $0.hasPrefix("f,") || Partitioning.partition(meterID: String($0.split(separator: ",")[1]), count: 3) == p }
            #expect(merged == wanted, "partition \(p)")
        }
    }

    /// Another client publishes (without message ids) while ours runs: the order guard refuses
    /// our messages that would land behind a lost predecessor, they are sent again, and ours stay
    /// in order, each once.
    @Test func anotherPublisherInBetweenDoesNotReorderOurs() throws {
        let server = try NATSServerProcess(directory: temporaryDirectory("interleave"))
        defer { server.kill() }
        let connection = try NATSConnection(urls: server.url)
        let js = try JetStream(connection)
        _ = try js.ensureStreams(StreamLayout(), partitions: 1, replicas: 1)

        let stop = Flag()
        let other = try JetStream(try NATSConnection(urls: server.url))
        let done = DispatchSemaphore(value: 0)
        BlockingThread.start {
            var n = 0
            while !stop.isSet {
                var pa: UnsafeMutablePointer<jsPubAck>?
                _ = js_Publish(&pa, other.context, "gridcarbon.grid", "g\n", 2, nil, nil)
                jsPubAck_Destroy(pa)
                n += 1
            }
            done.signal()
        }
        let publisher = try JetStreamPublisher(connection)
        for i in 0..<2000 {
            let payload = Array("\(i)\n".utf8)
            try payload.withUnsafeBytes { try publisher.publish(subject: "gridcarbon.meter.0", payload: $0, messageID: "ours-\(i)") }
        }
        let counts = try publisher.finish()
        stop.set()
        done.wait()
        #expect(counts.messages == 2000)
        #expect(counts.outOfOrder == 0)
        #expect(counts.resent > 0)   // the guard did refuse some
        #expect(try readBack(js, subject: "gridcarbon.meter.0").map(\.line) == (0..<2000).map { "\($0)" })
    }
}

/// A flag set by one thread, read by another.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
