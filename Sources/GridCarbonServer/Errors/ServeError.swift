import GridCarbonModel

/// The daemon cannot start as configured: a configuration problem, exit status 2.
public struct ServeError: CategorizedError {
    /// What is wrong; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Listening off loopback without a tokens file.
        public static let tokensRequired = Code("tokensRequired")
        /// A scale-out setting that does not fit the stream (a partition it does not have).
        public static let badScaleOut = Code("badScaleOut")
    }

    public var code: Code
    /// Why, naming the flag that fixes it.
    public var message: String
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var category: FailureCategory { .badConfiguration }
}
