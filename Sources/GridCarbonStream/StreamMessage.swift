import CNats

/// One message fetched by a ``PullConsumer``: its payload (read in place, not copied) and its
/// JetStream metadata. Owns the libnats message, freed with this object, and keeps its consumer
/// (whose subscription an acknowledgement goes through) alive as long; acknowledge it through
/// that consumer (``PullConsumer/ack(_:)``).
public final class StreamMessage {
    let handle: OpaquePointer
    let consumer: PullConsumer
    /// The message's sequence in the stream (the order of partitions and grid together).
    public let streamSequence: UInt64
    /// Its sequence among this consumer's deliveries.
    public let consumerSequence: UInt64
    /// How many times it was delivered (1 the first time; more after an acknowledgement was late).
    public let numDelivered: UInt64
    /// Messages of the consumer's subject still waiting after this one (the consumer's lag).
    public let numPending: UInt64
    /// When the stream stored it, in nanoseconds since 1970.
    public let timestampNanos: Int64

    /// Takes ownership of `msg`, a JetStream message fetched by `consumer`.
    init(taking msg: OpaquePointer, from consumer: PullConsumer) throws(StreamError) {
        handle = msg
        self.consumer = consumer
        var meta: UnsafeMutablePointer<jsMsgMetaData>?
        let s = natsMsg_GetMetaData(&meta, msg)
        guard s == NATS_OK, let m = meta?.pointee else {
            natsMsg_Destroy(msg)
            throw NATSStatus.error(s, .consumer, "a fetched message has no JetStream metadata")
        }
        streamSequence = m.Sequence.Stream
        consumerSequence = m.Sequence.Consumer
        numDelivered = m.NumDelivered
        numPending = m.NumPending
        timestampNanos = m.Timestamp
        jsMsgMetaData_Destroy(meta)
    }

    deinit {
        natsMsg_Destroy(handle)
    }

    /// The subject it was published to.
    public var subject: String { String(cString: natsMsg_GetSubject(handle)) }

    /// Payload size in bytes.
    public var payloadCount: Int { Int(natsMsg_GetDataLength(handle)) }

    /// Calls `body` with the payload bytes (record lines, each ending with `\n`), in place.
    public func withPayload<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withExtendedLifetime(self) {
            try body(UnsafeRawBufferPointer(start: natsMsg_GetData(handle), count: Int(natsMsg_GetDataLength(handle))))
        }
    }

    /// The value of header `name` (`Nats-Msg-Id`), if present.
    public func header(_ name: String) -> String? {
        var value: UnsafePointer<CChar>?
        guard natsMsgHeader_Get(handle, name, &value) == NATS_OK, let v = value else { return nil }
        return String(cString: v)
    }
}
