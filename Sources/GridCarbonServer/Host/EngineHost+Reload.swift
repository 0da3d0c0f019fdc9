import GridCarbonEngine
import GridCarbonIO
import GridCarbonModel

extension EngineHost {
    /// Replaces the factor tables from CSV texts (validated first: a bad table changes nothing),
    /// through the log so that a restart replays the same change at the same point.
    public func replaceTables(annualCSV: String, sourcesCSV: String, basis: String) async throws {
        _ = try AnnualFactorTable(csv: annualCSV, origin: "reload")
        _ = try SourceFactorTable(csv: sourcesCSV, basis: basis, origin: "reload")
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            queue.async {
                do {
                    let annual = Array(annualCSV.utf8), sources = Array(sourcesCSV.utf8)
                    let lsn = try annual.withUnsafeBytes { a in
                        try sources.withUnsafeBytes { s in try self.log(.tables(basis: basis, annualCSV: a, sourcesCSV: s)) }
                    }
                    self.queueAlerts(lsn)
                    self.wal.whenDurable(lsn) { c.resume(with: $0.mapError { $0 }) }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    /// Replaces the alert rules and budgets (SIGHUP, or a configuration that changed while the
    /// daemon was down) through the log, so a restart replays the change at the same point.
    /// Returns false when they are the rules in force already.
    @discardableResult
    public func replaceAlerts(_ settings: AlertSettings) async throws -> Bool {
        try settings.validate(engine: configuration.engine)
        // Budgets without rules do nothing: the engine holds no settings then.
        let settings = settings.rules.isEmpty ? AlertSettings() : settings
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Bool, any Error>) in
            queue.async {
                guard settings != self.engine.alertSettings else { c.resume(returning: false); return }
                do {
                    let (json, budgets) = AlertConfig.canonical(settings)
                    let j = Array(json.utf8), b = Array(budgets.utf8)
                    let lsn = try j.withUnsafeBytes { jp in
                        try b.withUnsafeBytes { bp in try self.log(.alerts(rulesJSON: jp, budgetsCSV: bp)) }
                    }
                    self.queueAlerts(lsn)
                    self.wal.whenDurable(lsn) { c.resume(with: $0.map { true }.mapError { $0 }) }
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }
}
