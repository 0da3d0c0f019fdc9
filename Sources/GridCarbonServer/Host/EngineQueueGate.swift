import NIOConcurrencyHelpers

/// The bound on bytes of lines queued for the engine, shared by every producer (reference §6,
/// `engine_queue_bytes`): ``EngineHost`` counts a batch in when it is handed over and out once
/// applied; producers ask for room before they hand over more. Room is "below the bound": each
/// waiting producer may add one batch past it when woken, so the overshoot is at most one batch
/// per producer (a TCP read or an HTTP piece, about 1 MiB each).
public final class EngineQueueGate: Sendable {
    /// The bound, in bytes.
    public let limit: Int
    private let state = NIOLockedValueBox(State())

    struct State {
        var queued = 0
        var waits = 0
        var waiters: [@Sendable () -> Void] = []
    }

    public init(limit: Int) {
        self.limit = limit
    }

    /// Bytes handed to the engine and not yet applied.
    public var queuedBytes: Int { state.withLockedValue { $0.queued } }

    /// How many times a producer waited for room (metrics).
    public var waits: Int { state.withLockedValue { $0.waits } }

    /// Counts `bytes` in (a batch handed to the engine).
    public func added(_ bytes: Int) {
        state.withLockedValue { $0.queued += bytes }
    }

    /// Counts `bytes` out (the batch is applied) and wakes the waiting producers once there is room.
    public func removed(_ bytes: Int) {
        let wake: [@Sendable () -> Void] = state.withLockedValue { s in
            s.queued -= bytes
            guard s.queued < limit, !s.waiters.isEmpty else { return [] }
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in wake { w() }
    }

    /// Whether the queue is at the bound: then `wake` is kept and called (once, on whatever thread
    /// counts the room free) when there is room again, and this returns true. With room it returns
    /// false and `wake` is dropped.
    public func parkIfFull(_ wake: @escaping @Sendable () -> Void) -> Bool {
        state.withLockedValue { s in
            guard s.queued >= limit else { return false }
            s.waiters.append(wake)
            s.waits += 1
            return true
        }
    }

    /// Returns once the queue is below the bound.
    public func waitForRoom() async {
        if queuedBytes < limit { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            if !parkIfFull({ c.resume() }) { c.resume() }
        }
    }
}
