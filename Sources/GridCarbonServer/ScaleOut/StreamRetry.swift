import GridCarbonStream
import Logging

/// Setting up consumers while a cluster elects a leader (a node just lost) fails for a few
/// seconds: a worker or the merger retries every second, saying so, until it works or it is
/// stopped.
enum StreamRetry {
    static func until<T: Sendable>(logger: Logger, _ what: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await BlockingThread.run(body)
            } catch {
                attempt += 1
                if Task.isCancelled { throw error }
                logger.warning("cannot set up \(what) yet; retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
