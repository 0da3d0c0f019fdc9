extension Engine {
    /// Feeds one stream message's payload (§8, docs/scale-out.md "Messages"): its lines, the end
    /// of the payload ending the last line, so a device that publishes a line without its newline
    /// (an MQTT message, say) is read as if it had one.
    public func ingestPayload(_ payload: UnsafeRawBufferPointer, source: Int32, line: inout Int64) {
        let used = ingest(payload, source: source, line: &line)
        guard used < payload.count else { return }
        ingestLine(UnsafeRawBufferPointer(rebasing: payload[used...]), origin: LineOrigin(source: source, line: line))
        line += 1
    }
}
