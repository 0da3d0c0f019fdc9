/// The instrument of a `c` record (reference §9.1): how an enterprise contracted non-fossil electricity.
public enum Instrument: Int, CaseIterable, Sendable {
    /// Green power trade (绿电交易): energy and its attributes bought together.
    case gpt
    /// Green electricity certificate (绿证): the attributes alone.
    case gec

    /// The instrument's name as written in records (`gpt`).
    public var name: String { self == .gpt ? "gpt" : "gec" }

    /// The instrument named by `p`, or nil.
    @inlinable
    public static func parse(_ p: UnsafeRawBufferPointer) -> Instrument? {
        guard p.count == 3, p[0] == 0x67 else { return nil }   // "g"
        if p[1] == 0x70 && p[2] == 0x74 { return .gpt }          // "pt"
        if p[1] == 0x65 && p[2] == 0x63 { return .gec }          // "ec"
        return nil
    }
}

extension Level {
    /// The level named by `p` (`national` … `meter`), or nil.
    public static func parse(_ p: UnsafeRawBufferPointer) -> Level? {
        for (i, name) in names.enumerated() where name.utf8.count == p.count {
            if name.utf8.elementsEqual(p) { return Level.allCases[i] }
        }
        return nil
    }
}
