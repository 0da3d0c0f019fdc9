/// Why a ``ByteReader`` refused bytes: which field, where, and what was wrong.
///
/// Codes are extensible (static members of ``Code``), as swift-service-lifecycle's errors do.
public struct ByteCodecError: CategorizedError, Equatable {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// Fewer bytes left than the field needs.
        public static let truncated = Code(name: "truncated")
        /// A count or length that cannot fit in the bytes left.
        public static let implausibleCount = Code(name: "implausible_count")
        /// A value outside what the format allows (a tag, a kind, a flag).
        public static let badValue = Code(name: "bad_value")
        /// Bytes left over after the last field.
        public static let trailingBytes = Code(name: "trailing_bytes")
        public var description: String { name }
    }

    public let code: Code
    /// The field being read, as the format's documentation names it.
    public let field: String
    /// Where in the bytes (from the reader's start).
    public let offset: Int
    /// What the reader was in (a section, an entry kind), or empty.
    public let context: String
    /// Details for people.
    public let detail: String

    public init(_ code: Code, field: String, offset: Int, context: String, detail: String) {
        self.code = code
        self.field = field
        self.offset = offset
        self.context = context
        self.detail = detail
    }

    /// Bytes on disk that do not decode: the data folder cannot be used as it is (exit status 1).
    public var category: FailureCategory { .badInput }

    public var description: String {
        let place = context.isEmpty ? "" : " in \(context)"
        switch code {
        case .truncated: return "truncated\(place) reading \(field): \(detail)"
        case .implausibleCount: return "\(context.isEmpty ? "" : "\(context): ")\(detail)"
        case .trailingBytes: return "\(detail)\(place)"
        default: return "bad \(field)\(place) at offset \(offset): \(detail)"
        }
    }
}
