import GridCarbonModel
import NIOConcurrencyHelpers

/// The slow-client bound of one request body (reference §6, `http_idle_timeout`): the time spent
/// waiting for the client's bytes may not pass the allowance plus one second per
/// ``LoadBounds/minBodyBytesPerSecond`` received. Time the daemon spends storing earlier pieces
/// does not count.
final class HTTPBodyClock: Sendable {
    private struct State {
        var waited: Duration = .zero
        var waitingSince: ContinuousClock.Instant?
        var received = 0
    }

    private let state = NIOLockedValueBox(State())
    let allowance: Duration

    init(allowance: Micros) {
        self.allowance = .microseconds(allowance)
    }

    /// The reader starts waiting for the client.
    func waiting() {
        state.withLockedValue { $0.waitingSince = .now }
    }

    /// The client sent `bytes` (0: the end of the body).
    func received(_ bytes: Int) {
        state.withLockedValue { s in
            if let since = s.waitingSince { s.waited += ContinuousClock.now - since }
            s.waitingSince = nil
            s.received += bytes
        }
    }

    /// Whether the client is slower than the bound.
    var overdue: Bool {
        state.withLockedValue { s in
            let waited = s.waited + (s.waitingSince.map { ContinuousClock.now - $0 } ?? .zero)
            return waited > allowance + .seconds(Double(s.received) / Double(LoadBounds.minBodyBytesPerSecond))
        }
    }

    /// Returns (throwing 408 `slow_client`) once the client is overdue; cancelled when the body is read.
    func watch() async throws {
        let tick = min(max(allowance / 8, .milliseconds(10)), .milliseconds(500))
        while true {
            try await Task.sleep(for: tick)
            if overdue {
                throw APIError(.requestTimeout, "slow_client", "the request body arrived too slowly (under \(LoadBounds.minBodyBytesPerSecond) bytes/s after the http_idle_timeout allowance)")
            }
        }
    }

    /// Runs `read` (which reports its waits to the clock) against the bound: 408 `slow_client`
    /// once the client is overdue, `read` cancelled.
    static func bounding<T: Sendable>(_ allowance: Micros, _ read: @escaping @Sendable (HTTPBodyClock) async throws -> T) async throws -> T {
        let clock = HTTPBodyClock(allowance: allowance)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await read(clock) }
            group.addTask { try await clock.watch(); return nil }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }
}
