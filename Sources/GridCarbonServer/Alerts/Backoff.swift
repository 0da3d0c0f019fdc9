/// Exponential backoff with jitter: `initial`, doubling, capped at `max`, each wait multiplied by a
/// random factor in 0.8…1.2 so many senders do not retry in lockstep.
struct Backoff: Sendable {
    let initial: Duration
    let max: Duration
    private(set) var attempt = 0

    init(initial: Duration, max: Duration) {
        self.initial = initial
        self.max = max
    }

    /// The wait before the next retry; each call doubles the base until the cap.
    mutating func next() -> Duration {
        var base = initial
        for _ in 0..<min(attempt, 30) {
            base = base * 2
            if base >= max { base = max; break }
        }
        attempt += 1
        return base * Double.random(in: 0.8...1.2)
    }

    mutating func reset() { attempt = 0 }
}
