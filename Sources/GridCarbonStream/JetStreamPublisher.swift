import CNats
import GridCarbonIO

#if canImport(Glibc)
import Glibc
#endif

/// Publishes messages into JetStream in order, each with a message id, a bounded number of
/// acknowledgements outstanding, and every one awaited (``finish()``).
///
/// Order holds through failures: while a message's predecessor is unacknowledged it carries the
/// predecessor's id as `Nats-Expected-Last-Msg-Id`, so if the predecessor was lost (a server
/// killed, a leader election) the stream refuses it instead of storing it ahead. After a failure
/// the publisher waits for every outstanding answer, then sends the failed messages again one at
/// a time, in order, until stored (JetStream drops any that had in fact been stored, by id), and
/// goes on. Another publisher writing to the same stream at the same time makes such refusals
/// frequent and publishing slower, never out of order. Not thread safe: one publishing thread,
/// of your own (calls block).
public final class JetStreamPublisher {
    /// Publishing settings.
    public struct Options: Sendable {
        /// Messages sent and not yet acknowledged, at most.
        public var maxPending = 64
        /// How long a message may wait for its acknowledgement before it counts as failed.
        public var ackWaitMillis: Int64 = 5000
        /// How long a failed message is sent again before ``publish(subject:payload:messageID:lines:)``
        /// or ``finish()`` give up with `.notAcknowledged` (a cluster electing a leader needs seconds).
        public var retrySeconds: Double = 60
        /// Send `Nats-Expected-Last-Msg-Id` (the order guarantee above). A publisher whose
        /// messages need no order among themselves may turn it off and never be slowed by others.
        public var ordered = true

        public init() {}
    }

    public let connection: NATSConnection
    public let options: Options
    let context: OpaquePointer
    let window: PublishWindow
    /// The window retained for libnats' callbacks; released in deinit once nothing is in flight.
    let retained: Unmanaged<PublishWindow>
    /// Whether a message was ever handed to libnats asynchronously. libnats 3.4 creates the
    /// context's pending map on the first asynchronous publish, and
    /// `js_PublishAsyncGetPendingList` dereferences it unchecked: before that it must not be called.
    private var handedOver = false

    public init(_ connection: NATSConnection, options: Options = Options()) throws(StreamError) {
        self.connection = connection
        self.options = options
        let window = PublishWindow()
        self.window = window
        retained = Unmanaged.passRetained(window)
        var opts = jsOptions()
        jsOptions_Init(&opts)
        opts.Wait = options.ackWaitMillis
        opts.PublishAsync.AckHandler = { _, msg, pa, pae, closure in
            guard let msg, let closure else { return }
            let window = Unmanaged<PublishWindow>.fromOpaque(closure).takeUnretainedValue()
            let error = pae.map { e in e.pointee.ErrText.map { String(cString: $0) } ?? NATSStatus.text(e.pointee.Err) }
            let keep = window.answered(msg, sequence: pa?.pointee.Sequence, duplicate: pa?.pointee.Duplicate ?? false, error: error)
            if !keep { natsMsg_Destroy(msg) }
        }
        opts.PublishAsync.AckHandlerClosure = retained.toOpaque()
        var js: OpaquePointer?
        let s = natsConnection_JetStream(&js, connection.handle, &opts)
        guard s == NATS_OK, let js else {
            retained.release()
            throw NATSStatus.error(s, .jetStream, "cannot open a JetStream context")
        }
        context = js
    }

    deinit {
        // Take back whatever libnats still holds, so no acknowledgement arrives for it.
        var list = natsMsgList()
        if handedOver, js_PublishAsyncGetPendingList(&list, context) == NATS_OK { natsMsgList_Destroy(&list) }
        let idle = window.monitor.locked { () -> Bool in
            for e in window.entries[window.head...] where e.message != nil { natsMsg_Destroy(e.message) }
            return window.pendingCount == 0
        }
        jsCtx_Destroy(context)
        // A callback may still be on its way for a message given up on: keep its target alive then.
        if idle { retained.release() }
    }

    /// Counts so far (messages retired in order; ``finish()`` gives the final ones).
    public var counts: PublishCounts { window.monitor.locked { window.counts } }

    /// Sends `payload` to `subject` with id `messageID` (``lines``: how many record lines it
    /// holds, for the duplicate count). Returns once the message is handed to libnats; blocks while
    /// ``Options/maxPending`` messages are unacknowledged, and while failed ones are sent again.
    public func publish(subject: String, payload: UnsafeRawBufferPointer, messageID: String, lines: Int = 1) throws(StreamError) {
        try makeRoom()
        var msg: OpaquePointer?
        try NATSStatus.check(natsMsg_Create(&msg, subject, nil, payload.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(payload.count)),
                             .notAcknowledged, "cannot create a message for \(subject)")
        let entry = PublishWindow.Entry(id: messageID, subject: subject, lines: lines)
        let expected: String? = window.monitor.locked {
            // The predecessor's id until it is known stored (a failed one too: it is sent again
            // before this one may be stored).
            let previous = window.count > 0 ? window.entries.last : nil
            window.entries.append(entry)
            window.inFlight[msg!] = entry
            window.pendingCount += 1
            guard options.ordered, let p = previous, p.isPending || p.isFailed else { return nil }
            return p.id
        }
        var opts = jsPubOptions()
        jsPubOptions_Init(&opts)
        opts.MaxWait = options.ackWaitMillis
        var owned = msg
        let s = messageID.withCString { cID in
            (expected ?? "").withCString { cExpected in
                opts.MsgId = cID
                if expected != nil { opts.ExpectLastMsgId = cExpected }
                return js_PublishMsgAsync(context, &owned, &opts)
            }
        }
        handedOver = true
        if s != NATS_OK, let kept = owned {
            // Not handed over (the reconnect buffer is full, the connection closed): ours to resend.
            let reason = NATSStatus.text(s)
            _ = window.answered(kept, sequence: nil, duplicate: false, error: reason)
            if connection.isClosed { throw NATSStatus.error(s, .closed, "publish to \(subject)") }
        }
    }

    /// Waits for every acknowledgement, sending failed messages again; the final counts.
    /// - Throws: ``StreamError`` `.notAcknowledged` when a message is still not stored after
    ///   ``Options/retrySeconds``, `.closed` when the connection is closed.
    public func finish() throws(StreamError) -> PublishCounts {
        try settle()
        return counts
    }

    /// Waits until fewer than `maxPending` messages are unanswered; settles the window after a failure.
    func makeRoom() throws(StreamError) {
        let failed: Bool = window.monitor.locked {
            while true {
                window.retireAnswered()
                if window.failedCount > 0 { return true }
                if window.count < options.maxPending { return false }
                window.monitor.wait(until: Clock.monotonic() + 0.5)
                if connection.isClosed { return true }
            }
        }
        if failed { try settle() }
    }

    /// Waits for an answer to every message in the window (taking back from libnats those that got
    /// none in time), then retires them in order, sending each failed one again until stored.
    func settle() throws(StreamError) {
        let deadline = Clock.monotonic() + Double(options.ackWaitMillis) / 1000 + 2
        let unanswered: Bool = window.monitor.locked {
            while window.pendingCount > 0 && Clock.monotonic() < deadline && !connection.isClosed {
                window.monitor.wait(until: min(deadline, Clock.monotonic() + 0.5))
            }
            return window.pendingCount > 0
        }
        if unanswered { takeBackUnanswered() }
        let giveUp = Clock.monotonic() + options.retrySeconds
        while true {
            let next: PublishWindow.Entry? = window.monitor.locked {
                window.retireAnswered()
                return window.count > 0 ? window.entries[window.head] : nil
            }
            guard let entry = next else { return }
            if entry.isFailed {
                try resend(entry)
            } else {
                // Still with libnats (its pending list could not be taken back): wait for it.
                if connection.isClosed { throw StreamError(.closed, "publish to \(entry.subject): the connection is closed") }
                if Clock.monotonic() > giveUp {
                    throw StreamError(.notAcknowledged, "message \(entry.id) to \(entry.subject) not acknowledged after \(Int(options.retrySeconds)) s")
                }
                window.monitor.locked { if entry.isPending { window.monitor.wait(until: Clock.monotonic() + 0.5) } }
                takeBackUnanswered()
            }
        }
    }

    /// Takes back from libnats the messages still waiting for an acknowledgement: they count as
    /// failed and are sent again (a late acknowledgement for them is then ignored).
    func takeBackUnanswered() {
        var list = natsMsgList()
        guard handedOver, js_PublishAsyncGetPendingList(&list, context) == NATS_OK else { return }
        for i in 0..<Int(list.Count) {
            guard let m = list.Msgs[i] else { continue }
            if window.answered(m, sequence: nil, duplicate: false, error: "no acknowledgement within \(options.ackWaitMillis) ms") {
                list.Msgs[i] = nil
            }
        }
        natsMsgList_Destroy(&list)
    }

    /// Sends the failed `entry` again, synchronously and without an order guard (everything before
    /// it is acknowledged), until the stream stores it or knows it already.
    func resend(_ entry: PublishWindow.Entry) throws(StreamError) {
        guard let msg = entry.message else { return }
        natsMsgHeader_Delete(msg, "Nats-Expected-Last-Msg-Id")
        let giveUp = Clock.monotonic() + options.retrySeconds
        var pause = 0.05
        while true {
            var opts = jsPubOptions()
            jsPubOptions_Init(&opts)
            opts.MaxWait = options.ackWaitMillis
            var pa: UnsafeMutablePointer<jsPubAck>?
            var jerr = jsErrCode(rawValue: 0)
            let s = js_PublishMsg(&pa, context, msg, &opts, &jerr)
            if s == NATS_OK, let ack = pa?.pointee {
                window.monitor.locked {
                    entry.state = ack.Duplicate ? .duplicate : .stored(ack.Sequence)
                    entry.message = nil
                    window.failedCount -= 1
                    window.counts.resent += 1
                }
                jsPubAck_Destroy(pa)
                natsMsg_Destroy(msg)
                return
            }
            jsPubAck_Destroy(pa)
            if connection.isClosed { throw NATSStatus.error(s, .closed, "publish to \(entry.subject)") }
            if Clock.monotonic() + pause > giveUp {
                throw NATSStatus.error(s, .notAcknowledged, jetStreamCode: jerr,
                                       "message \(entry.id) to \(entry.subject) not stored after \(Int(options.retrySeconds)) s of retries")
            }
            usleep(useconds_t(pause * 1e6))
            pause = min(pause * 2, 1)
        }
    }
}
