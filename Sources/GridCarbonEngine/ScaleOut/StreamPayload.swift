import GridCarbonModel

/// The payload of a message on a partition subject (§8, docs/scale-out.md): record lines, each
/// ending with a newline, or an idle tick `!idle <unix microseconds>\n` that a worker publishes to
/// its own partition when it has received nothing for `idle_timeout`, so that the watermark move is
/// part of the stream and a replay of the stream makes it at the same point.
public enum StreamPayload {
    /// The prefix of an idle tick.
    public static let idlePrefix = Array("!idle ".utf8)

    /// The tick's payload for watermark `w`.
    public static func idleTick(_ w: Micros) -> [UInt8] { Array("!idle \(w)\n".utf8) }

    /// The watermark of an idle tick, or nil when `payload` is record lines.
    public static func idleTick(_ payload: UnsafeRawBufferPointer) -> Micros? {
        guard payload.count > idlePrefix.count, payload.starts(with: idlePrefix) else { return nil }
        var v: Int64 = 0
        var any = false
        for b in payload.dropFirst(idlePrefix.count) {
            if b == 0x0A { break }
            guard b >= 0x30 && b <= 0x39, v < Int64.max / 10 - 10 else { return nil }
            v = v * 10 + Int64(b - 0x30)
            any = true
        }
        return any ? v : nil
    }

    /// The source name side outputs give a partition's lines: `nats:gridcarbon.meter.<p>`.
    public static func sourceName(_ role: EngineRole) -> String {
        if case .partition(let p, _) = role { return "nats:gridcarbon.meter.\(p)" }
        return "nats"
    }
}
