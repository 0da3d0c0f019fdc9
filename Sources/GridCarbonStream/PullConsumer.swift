import CNats

/// A durable pull consumer on one subject of a stream (reference §8 workers): batches fetched on
/// demand, acknowledged once their effect is durable. Not thread safe: one thread of your own
/// per consumer (a fetch blocks up to its timeout; libnats refuses concurrent fetches).
///
/// A worker starting from a checkpoint re-points the durable there:
/// `PullConsumer(js, settings: s (start: .sequence(checkpoint + 1)), recreate: true)`.
public final class PullConsumer {
    public let settings: ConsumerSettings
    public let jetStream: JetStream
    let subscription: OpaquePointer

    /// Binds to the durable consumer of `settings`, creating it when missing. An existing one is
    /// used as it is (its start position and settings are the server's) unless `recreate`, which
    /// deletes it first and creates it anew from `settings.start`.
    public init(_ jetStream: JetStream, settings: ConsumerSettings, recreate: Bool = false) throws(StreamError) {
        self.settings = settings
        self.jetStream = jetStream
        if recreate { try jetStream.deleteConsumer(stream: settings.stream, durable: settings.durable) }
        var exists = false
        if !recreate { exists = try Self.exists(jetStream, settings) }
        if !exists {
            try Self.create(jetStream, settings)
        }
        var subOpts = jsSubOptions()
        jsSubOptions_Init(&subOpts)
        var sub: OpaquePointer?
        let (s, jerr) = settings.stream.withCString { cStream in
            settings.durable.withCString { cDurable in
                subOpts.Stream = cStream
                subOpts.Consumer = cDurable
                return jetStream.call { opts, jerr in
                    js_PullSubscribe(&sub, jetStream.context, settings.filterSubject, cDurable, &opts, &subOpts, &jerr)
                }
            }
        }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot subscribe to consumer \(settings.durable) of \(settings.stream)")
        subscription = sub!
    }

    deinit {
        // Frees the subscription; the durable consumer stays on the server (libnats 3.4+).
        natsSubscription_Destroy(subscription)
    }

    static func exists(_ js: JetStream, _ settings: ConsumerSettings) throws(StreamError) -> Bool {
        let (s, jerr) = js.call { opts, jerr in
            var ci: UnsafeMutablePointer<jsConsumerInfo>?
            defer { jsConsumerInfo_Destroy(ci) }
            return js_GetConsumerInfo(&ci, js.context, settings.stream, settings.durable, &opts, &jerr)
        }
        if s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr { return false }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot read consumer \(settings.durable) of \(settings.stream)")
        return true
    }

    static func create(_ js: JetStream, _ settings: ConsumerSettings) throws(StreamError) {
        var cc = jsConsumerConfig()
        jsConsumerConfig_Init(&cc)
        let (s, jerr) = settings.durable.withCString { cDurable in
            settings.filterSubject.withCString { cFilter in
                cc.Durable = cDurable
                cc.FilterSubject = cFilter
                switch settings.start {
                case .all:
                    cc.DeliverPolicy = js_DeliverAll
                case .sequence(let seq):
                    cc.DeliverPolicy = js_DeliverByStartSequence
                    cc.OptStartSeq = max(seq, 1)
                }
                cc.AckPolicy = settings.acknowledgement == .all ? js_AckAll : js_AckExplicit
                cc.AckWait = Int64(settings.ackWaitSeconds * 1e9)
                cc.MaxAckPending = Int64(settings.maxAckPending)
                return js.call { opts, jerr in
                    var ci: UnsafeMutablePointer<jsConsumerInfo>?
                    defer { jsConsumerInfo_Destroy(ci) }
                    return js_AddConsumer(&ci, js.context, settings.stream, &cc, &opts, &jerr)
                }
            }
        }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot create consumer \(settings.durable) of \(settings.stream) on \(settings.filterSubject)")
    }

    /// Up to `max` messages, in stream order; waits up to `timeoutMillis` for the first one and
    /// returns early with fewer when the server has no more now. Empty when nothing came in time.
    /// - Throws: ``StreamError`` `.closed` when the connection is closed, `.consumer` for other
    ///   failures (a deleted consumer, a server error); a worker logs them and fetches again.
    public func fetch(max: Int, timeoutMillis: Int64) throws(StreamError) -> [StreamMessage] {
        var list = natsMsgList()
        var jerr = jsErrCode(rawValue: 0)
        let s = natsSubscription_Fetch(&list, subscription, Int32(max), timeoutMillis, &jerr)
        defer { natsMsgList_Destroy(&list) }
        if s == NATS_TIMEOUT || s == NATS_NOT_FOUND { return [] }
        try NATSStatus.check(s, .consumer, jetStreamCode: jerr, "fetch from consumer \(settings.durable)")
        var out: [StreamMessage] = []
        out.reserveCapacity(Int(list.Count))
        var failure: StreamError?
        for i in 0..<Int(list.Count) {
            guard let m = list.Msgs[i] else { continue }
            list.Msgs[i] = nil   // ours now: natsMsgList_Destroy frees only the array
            do throws(StreamError) {
                out.append(try StreamMessage(taking: m, from: self))
            } catch {
                failure = failure ?? error
            }
        }
        if let f = failure { throw f }
        return out
    }

    /// Acknowledges `message` (with `.all`, every earlier one too). Sent without waiting for the
    /// server's confirmation: an acknowledgement lost to a broken connection means a redelivery
    /// after the ack wait, which a worker drops by its checkpoint.
    public func ack(_ message: StreamMessage) throws(StreamError) {
        try NATSStatus.check(natsMsg_Ack(message.handle, nil), .consumer, "acknowledge stream sequence \(message.streamSequence)")
    }

    /// Acknowledges `message` and waits until the server confirms it.
    public func ackSync(_ message: StreamMessage) throws(StreamError) {
        // Not tried again (a repeat of an acknowledgement already applied may go unanswered): the caller decides.
        var opts = jetStream.options()
        var jerr = jsErrCode(rawValue: 0)
        let s = natsMsg_AckSync(message.handle, &opts, &jerr)
        try NATSStatus.check(s, .consumer, jetStreamCode: jerr,
                             "acknowledge stream sequence \(message.streamSequence)")
    }

    /// The consumer's state on the server.
    public func state() throws(StreamError) -> ConsumerState {
        var ci: UnsafeMutablePointer<jsConsumerInfo>?
        // By name: libnats 3.4.1's natsSubscription_GetConsumerInfo answers "Invalid Subscription"
        // for a pull subscription bound to an existing durable.
        let (s, jerr) = jetStream.call { opts, jerr in
            jsConsumerInfo_Destroy(ci)
            ci = nil
            return js_GetConsumerInfo(&ci, jetStream.context, settings.stream, settings.durable, &opts, &jerr)
        }
        defer { jsConsumerInfo_Destroy(ci) }
        try NATSStatus.check(s, .jetStream, jetStreamCode: jerr, "cannot read consumer \(settings.durable)")
        let i = ci!.pointee
        return ConsumerState(numPending: i.NumPending, numAckPending: Int(i.NumAckPending), numRedelivered: Int(i.NumRedelivered),
                             deliveredStreamSequence: i.Delivered.Stream, ackFloorStreamSequence: i.AckFloor.Stream)
    }
}
