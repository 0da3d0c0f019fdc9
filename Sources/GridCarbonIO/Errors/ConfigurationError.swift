import GridCarbonModel

/// A configuration that cannot be used — the configuration file, a value in it or given by a
/// flag, its alert rules, the budgets file — with the file and line at fault when there is one.
/// Exit status 2.
public struct ConfigurationError: CategorizedError {
    /// What is wrong; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file does not exist or cannot be read.
        public static let unreadable = Code("unreadable")
        /// The file is not JSON, or not an object of settings.
        public static let notJSON = Code("notJSON")
        /// A key that is not in the list of keys (``ConfigKey``).
        public static let unknownKey = Code("unknownKey")
        /// A value of the wrong type or out of range.
        public static let badValue = Code("badValue")
        /// An alert rule that cannot be read or cannot run.
        public static let badRule = Code("badRule")
        /// A budgets file row that cannot be used.
        public static let badBudget = Code("badBudget")
        /// A factor table named by the configuration that cannot be used.
        public static let badTable = Code("badTable")
    }

    /// What is wrong.
    public var code: Code
    /// The file at fault (the configuration or budgets file); nil for a value given by a flag.
    public var path: String?
    /// The line at fault in `path` (from 1), when known.
    public var line: Int?
    /// Why, for the operator.
    public var message: String
    /// Where in gridcarbon the error was made.
    public var sourceFile: String
    public var sourceLine: Int

    public init(_ code: Code, path: String? = nil, line: Int? = nil, message: String, sourceFile: String = #fileID, sourceLine: Int = #line) {
        self.code = code
        self.path = path
        self.line = line
        self.message = message
        self.sourceFile = sourceFile
        self.sourceLine = sourceLine
    }

    /// `path:line: message`, `path: message`, or the message alone.
    public var description: String {
        guard let path else { return message }
        return line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
    }

    public var category: FailureCategory { .badConfiguration }
}

/// The name alert-rule errors had before every configuration error became one type.
public typealias AlertConfigError = ConfigurationError
