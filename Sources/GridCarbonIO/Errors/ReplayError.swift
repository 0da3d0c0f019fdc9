import GridCarbonModel

/// A problem with the replay's own inputs that stops the run: bad input data, exit status 1
/// (rejected lines do not stop it).
public struct ReplayError: CategorizedError {
    /// What stopped the run; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// An input file that does not exist.
        public static let noSuchInput = Code("noSuchInput")
        /// The registry cannot be read or parsed.
        public static let registry = Code("registry")
        /// The alert rules do not fit the engine settings.
        public static let alertRules = Code("alertRules")
        /// An input or an output cannot be read or written.
        public static let io = Code("io")
    }

    public var code: Code
    /// Why, for people: `sim/records.csv: no such file`.
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
    public var category: FailureCategory { .badInput }
}
