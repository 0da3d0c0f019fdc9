/// The active alerts as of a `seq`, `<alerts>/active.snapshot` (reference §5): a first line
/// `gridcarbon-active <seq>`, then the newest firing event line of each active alert. Written at
/// each rotation, so that a start reads the snapshot and the events after it (the newest segment)
/// instead of the whole log, and so that an alert still firing outlives the segment that held
/// its event.
extension AlertLog {
    public static let snapshotName = "active.snapshot"
    static let snapshotHeader = Array("gridcarbon-active ".utf8)

    /// Replaces the snapshot (atomically, fsynced) with `lines` (NDJSON event lines, newline
    /// included) as the active set after `seq`.
    public func writeSnapshot(seq: Int64, lines: [[UInt8]]) throws {
        var out = Self.snapshotHeader + Array("\(seq)\n".utf8)
        for l in lines { out += l }
        try Files.writeAtomically("\(directory)/\(Self.snapshotName)", out, sync: true)
    }

    /// The snapshot: the `seq` it reflects and the active events; nil when missing or unreadable.
    public static func readSnapshot(directory: String) -> (seq: Int64, entries: [AlertLogEntry])? {
        let path = "\(directory)/\(snapshotName)"
        guard Files.exists(path), let bytes = try? Files.read(path), bytes.starts(with: snapshotHeader),
              let nl = bytes.firstIndex(of: 0x0A),
              let seq = Int64(String(decoding: bytes[snapshotHeader.count..<nl], as: UTF8.self)) else { return nil }
        var entries: [AlertLogEntry] = []
        var start = nl + 1
        for i in (nl + 1)..<bytes.count where bytes[i] == 0x0A {
            let line = Array(bytes[start...i])
            start = i + 1
            if let s = Self.seq(of: line) { entries.append(AlertLogEntry(seq: s, line: line)) }
        }
        return (seq, entries)
    }
}
