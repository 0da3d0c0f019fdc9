import Foundation
import GridCarbonStream

/// Notices a pull consumer that delivers nothing while messages wait for it. After a consumer's
/// leader changes (a nats-server node lost), a consumer can stay quiet with messages pending
/// (nats.go #2063, nats-server #4624 describe such stalls); a feeder that sees it re-creates the
/// consumer at its own position, which costs nothing when the stall was not real (redeliveries at
/// or below the position are dropped).
struct StallWatch {
    /// Quiet time after which the consumer's state is checked (and then again each time).
    let seconds: Double
    private var quietSince = Date()

    init(seconds: Double) { self.seconds = seconds }

    /// A fetch delivered messages.
    mutating func delivered() { quietSince = Date() }

    /// After ``seconds`` without a delivery: the consumer's state, read from the server (at most
    /// once per ``seconds``); nil before, or when the server cannot say.
    mutating func check(_ consumer: PullConsumer) -> ConsumerState? {
        guard Date().timeIntervalSince(quietSince) >= seconds else { return nil }
        quietSince = Date()
        return try? consumer.state()
    }
}
