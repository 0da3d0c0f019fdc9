/// Why a subscriber woke up.
public enum AlertWake: Sendable {
    /// Events were published.
    case changed
    /// A timer of the subscriber's own (keep-alive, resend).
    case tick
}

/// A subscriber's wake-ups from an ``AlertHub``: at most one pending wake is buffered, so a slow
/// subscriber costs no memory; it reads what it missed with ``AlertHub/entries(after:limit:)``.
public struct AlertSubscription: Sendable {
    let id: UInt64
    /// Yields on every publish (coalesced) and on ``tick()``; finishes when the hub closes.
    public let wakes: AsyncStream<AlertWake>
    let continuation: AsyncStream<AlertWake>.Continuation

    /// Wakes the subscriber without events (timers).
    public func tick() { continuation.yield(.tick) }

    /// Starts a task that ticks every `interval` until the subscription ends; cancel it when done.
    public func ticking(every interval: Duration) -> Task<Void, Never> {
        let c = continuation
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                if case .terminated = c.yield(.tick) { return }
            }
        }
    }
}
