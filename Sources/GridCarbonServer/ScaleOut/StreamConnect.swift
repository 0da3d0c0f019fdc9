import Foundation
import GridCarbonStream
import Logging

/// Connecting a worker or the merger to the stream (§8).
enum StreamConnect {
    /// Connects, waits until the records stream exists (created by `gridcarbon publish` or a
    /// gateway, which fix `P`), makes sure the partials stream exists, and returns `P`.
    static func open(_ settings: ScaleOutConfiguration, layout: StreamLayout, logger: Logger) async throws -> (NATSConnection, Int) {
        try await BlockingThread.run { () throws -> UncheckedBox<(NATSConnection, Int)> in
            let connection = try NATSConnection(urls: settings.url)
            let js = try JetStream(connection)
            var warned = false
            while true {
                if let info = try js.streamInfo(layout.stream), let l = info.layout {
                    _ = try js.ensureStreams(layout, partitions: l.partitions, replicas: l.replicas)
                    return UncheckedBox((connection, l.partitions))
                }
                if !warned {
                    logger.notice("waiting for stream \(layout.stream): run `gridcarbon publish --nats \(settings.url) --partitions P` (or a gateway) to create it")
                    warned = true
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }.value
    }
}
