import GridCarbonModel

/// Text that is not valid JSON, at a byte offset. The configuration file is the only JSON read
/// this way, so it is a configuration problem (exit status 2); ``ConfigFile`` turns it into a
/// ``ConfigurationError`` naming the line.
public struct JSONSyntaxError: CategorizedError, Equatable {
    /// What is wrong; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The bytes break the JSON grammar (RFC 8259).
        public static let syntax = Code("syntax")
    }

    /// The first byte that is not JSON.
    public var offset: Int
    /// Why (`expected ',' or ']'`).
    public var message: String
    public var code: Code = .syntax

    /// `byte OFFSET: MESSAGE`.
    public var description: String { "byte \(offset): \(message)" }
    public var category: FailureCategory { .badConfiguration }
}
