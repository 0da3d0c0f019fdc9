import NIOCore

extension LineIngestHandler {
    /// Whether the connection may read more (on its event loop): few of its batches wait for the
    /// sink, the client reads its answers (the channel is writable), and the engine queue shared by every producer (``EngineQueueGate``) is below its
    /// bound. At the bound the connection stops reading, so TCP slows the producer, and reads
    /// again once the engine has room (reference §6, `engine_queue_bytes`).
    func mayRead(context: ChannelHandlerContext) -> Bool {
        guard inflight < maxInflight, !failed, !parked, context.channel.isWritable else { return false }
        guard let gate = host.queueGate else { return true }
        let loop = context.eventLoop
        let ctx = NIOLoopBound(context, eventLoop: loop)
        let full = gate.parkIfFull {
            loop.execute {
                self.parked = false
                if self.readPending && !self.inputClosed && self.mayRead(context: ctx.value) {
                    self.readPending = false
                    ctx.value.read()
                }
            }
        }
        if full { parked = true }
        return !full
    }
}
