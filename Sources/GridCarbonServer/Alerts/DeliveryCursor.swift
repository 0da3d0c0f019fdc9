import GridCarbonModel
import GridCarbonIO
import Logging

/// A subscriber's place in the alert log: the last `seq` it took, in `<alerts>/<kind>-<name>.cursor`,
/// replaced atomically (and fsynced) after each delivery so that a restart resumes after it.
struct DeliveryCursor: Sendable {
    let path: String
    let logger: Logger

    /// The cursor of `kind` (`webhook`, `alertmanager`) for `url` in the alert log folder of `hub`.
    /// A subscriber seen for the first time starts at the end of the log as it is now (made before
    /// the daemon takes input, so every event from here on reaches it).
    init(kind: String, url: String, hub: AlertHub, logger: Logger) {
        path = hub.directory + "/" + Self.fileName(kind: kind, url: url)
        self.logger = logger
        if load() == nil { save(hub.lastSeq) }
    }

    /// `<kind>-<host, port and path with other characters as _, at most 48>-<FNV-1a 64 of the URL>.cursor`
    static func fileName(kind: String, url: String) -> String {
        var rest = Substring(url)
        if let r = rest.firstRange(of: "://") { rest = rest[r.upperBound...] }
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
        let safe = String(rest.unicodeScalars.map { s -> Character in
            (s.isASCII && (s.properties.isAlphabetic || s.properties.numericType != nil || s == "." || s == "-")) ? Character(s) : "_"
        }.prefix(48))
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in url.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return "\(kind)-\(safe)-\(SequenceName.zeroPadded(h, width: 16, radix: 16)).cursor"
    }

    /// The last delivered `seq`, or nil when there is no cursor file yet.
    func load() -> Int64? {
        guard Files.exists(path), let bytes = try? Files.read(path) else { return nil }
        return Int64(String(decoding: bytes, as: UTF8.self).filter { $0 != "\n" && $0 != " " })
    }

    func save(_ seq: Int64) {
        do { try Files.writeAtomically(path, Array("\(seq)\n".utf8), sync: true) } catch {
            logger.error("delivery cursor not saved; events after it may be delivered again", metadata: ["file": "\(path)", "error": "\(error)"])
        }
    }

    /// Where to start: after the saved cursor, or at the end of the log for a subscriber seen for
    /// the first time (or a cursor from a newer life of the data folder than its log).
    func start(lastSeq: Int64) -> Int64 {
        if let c = load(), c <= lastSeq { return c }
        save(lastSeq)
        return lastSeq
    }
}
