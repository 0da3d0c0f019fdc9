import GridCarbonModel

/// Why a simulation cannot run as asked: bad options, a usage error (exit status 2).
public struct SimulationError: CategorizedError {
    /// What is wrong; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// An option out of its range, or options that do not fit together.
        public static let badOption = Code("badOption")
    }

    public var code: Code
    /// A one-line reason naming the option (`--meters must be ...`).
    public var message: String
    /// Where in gridcarbon the error was made.
    public var file: String
    public var line: Int

    public init(_ message: String, code: Code = .badOption, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { message }
    public var category: FailureCategory { .badConfiguration }
}
