/// File names that sort in number order: a prefix, the number zero-padded to a fixed width, a
/// suffix (`wal-00000000000000001234.log`, `checkpoint-00000000000000001234.bin`).
///
/// One helper for every numbered file of the data folder, so that names are made and read back
/// the same way, never by character offsets.
public struct SequenceName: Sendable, Hashable {
    public let prefix: String
    public let suffix: String
    /// Digits of the number (20 holds every `Int64`).
    public let width: Int

    public init(prefix: String, suffix: String, width: Int = 20) {
        self.prefix = prefix
        self.suffix = suffix
        self.width = width
    }

    /// The name of number `n` (`n >= 0`).
    public func name(_ n: Int64) -> String {
        precondition(n >= 0, "sequence numbers are not negative")
        return prefix + Self.zeroPadded(n, width: width) + suffix
    }

    /// The number in `name`, or nil when it is not a name of this sequence.
    public func number(_ name: String) -> Int64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.utf8.count > prefix.utf8.count + suffix.utf8.count else { return nil }
        let digits = name.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(Substring(digits))
    }

    /// `n` in `radix`, left-padded with zeros to `width` digits (`n >= 0`).
    public static func zeroPadded<T: BinaryInteger>(_ n: T, width: Int, radix: Int = 10) -> String {
        let digits = String(n, radix: radix)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The names of this sequence among `names`, with their numbers, in number order.
    public func numbered(_ names: some Sequence<String>) -> [(number: Int64, name: String)] {
        names.compactMap { n in number(n).map { ($0, n) } }.sorted { $0.number < $1.number }
    }
}
