import GridCarbonModel

/// A partial batch the merger cannot take (§8): a configuration problem, exit status 2.
public struct ScaleOutError: CategorizedError, Equatable {
    /// What is wrong; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The worker runs with another registry, slot or window lengths, or partition count.
        public static let mismatch = Code("mismatch")
        /// The batch contradicts what was merged (a slot the merger closed already).
        public static let inconsistent = Code("inconsistent")
    }

    public var code: Code
    /// Why, and what to do.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
    public var category: FailureCategory { .badConfiguration }
}
