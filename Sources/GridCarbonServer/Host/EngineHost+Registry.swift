import Dispatch
import GridCarbonEngine
import GridCarbonModel
import Logging

extension EngineHost {
    static func metadata(_ c: RegistryChange) -> Logger.Metadata {
        ["meters": "\(c.meters)", "added": "\(c.added)", "removed": "\(c.removed)", "changed": "\(c.changed)", "retired": "\(c.retired)"]
    }

    /// On the queue: logs a registry entry and applies it; the change, with the meters retired.
    @discardableResult
    func logRegistry(csv: [UInt8], parsed: Registry) throws -> RegistryChange {
        dispatchPrecondition(condition: .onQueue(queue))
        var change = engine.registry.difference(to: parsed)
        _ = try csv.withUnsafeBytes { try wal.append(LogEntry.registry(csv: $0).encoded()) }
        rollSideOutputsIfNeeded()
        // The entry's effect (``LogEntry/apply(to:output:)``), without parsing the file a second time.
        engine = LogEntry.replaceRegistry(of: engine, by: parsed, output: output)
        registryDidChange()
        change.retired = engine.registry.count - engine.registry.liveCount
        return change
    }

    /// Replaces the meter registry (SIGHUP, `POST /v1/registry`): the whole file, validated first
    /// (a bad file throws ``TableError`` naming the line and changes nothing), then logged and
    /// applied on the queue, so a restart replays it at the same point. Returns once the reload is
    /// durable. A file that changes nothing (the same meters and keys, perhaps in another order) is
    /// not logged. See ``Engine/replacingRegistry(with:)`` for what a reload does.
    public func replaceRegistry(csv: [UInt8], origin: String) async throws -> RegistryChange {
        let fresh = try Registry(csv: csv, origin: origin, meterLevel: configuration.engine.levels.contains(.meter), scope: await onQueue { self.engine.role.meterScope })
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<RegistryChange, any Error>) in
            queue.async {
                do {
                    let diff = self.engine.registry.difference(to: fresh)
                    if diff.isEmpty { c.resume(returning: diff); return }
                    let change = try self.logRegistry(csv: csv, parsed: fresh)
                    let lsn = self.wal.endLSN
                    self.logger.info("registry reloaded", metadata: Self.metadata(change).merging(["from": "\(origin)"]) { a, _ in a })
                    try self.output.check()
                    self.checkpointIfDue()
                    self.wal.whenDurable(lsn) { c.resume(with: $0.map { change }.mapError { $0 }) }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }
}
