import CNats

/// The messages a ``JetStreamPublisher`` has sent and not yet retired, in the order sent, with
/// what the stream answered. Shared between the publishing thread and libnats' acknowledgement
/// thread, behind a ``Monitor``.
final class PublishWindow: @unchecked Sendable {
    /// One message in flight.
    final class Entry {
        enum State {
            case pending
            case stored(UInt64)
            case duplicate
            /// Not acknowledged; `message` is ours again, to be sent once more.
            case failed(String)
        }

        let id: String
        let subject: String
        let lines: Int
        var state = State.pending
        /// The libnats message, ours while the entry has failed (nil otherwise).
        var message: OpaquePointer?

        init(id: String, subject: String, lines: Int) {
            self.id = id
            self.subject = subject
            self.lines = lines
        }

        var isPending: Bool { if case .pending = state { true } else { false } }
        var isFailed: Bool { if case .failed = state { true } else { false } }
    }

    let monitor = Monitor()
    /// Unretired entries in send order (retired from the front).
    var entries: [Entry] = []
    var head = 0
    /// Entries by the address of their libnats message while libnats owns it.
    var inFlight: [OpaquePointer: Entry] = [:]
    var pendingCount = 0
    var failedCount = 0
    var counts = PublishCounts()

    var count: Int { entries.count - head }

    /// The acknowledgement handler's part (libnats' thread): records the answer for `message`.
    /// Returns true when the message is to be kept (a failure: the publisher sends it again).
    func answered(_ message: OpaquePointer, sequence: UInt64?, duplicate: Bool, error: String?) -> Bool {
        monitor.locked {
            guard let e = inFlight.removeValue(forKey: message) else { return false }
            pendingCount -= 1
            if let error {
                e.state = .failed(error)
                e.message = message
                failedCount += 1
            } else if duplicate {
                e.state = .duplicate
            } else {
                e.state = .stored(sequence ?? 0)
            }
            monitor.broadcast()
            return error != nil
        }
    }

    /// Retires acknowledged entries from the front, counting them; stops at a pending or failed one.
    /// Call holding the lock.
    func retireAnswered() {
        while head < entries.count {
            let e = entries[head]
            switch e.state {
            case .pending, .failed: return
            case .stored(let seq): count(stored: seq)
            case .duplicate: count(duplicateOf: e)
            }
            head += 1
        }
        if head == entries.count { entries.removeAll(keepingCapacity: true); head = 0 }
    }

    func count(stored seq: UInt64) {
        counts.messages += 1
        counts.stored += 1
        if seq < counts.lastSequence { counts.outOfOrder += 1 }
        counts.lastSequence = max(counts.lastSequence, seq)
    }

    func count(duplicateOf e: Entry) {
        counts.messages += 1
        counts.duplicates += 1
        counts.duplicateLines += e.lines
    }
}
