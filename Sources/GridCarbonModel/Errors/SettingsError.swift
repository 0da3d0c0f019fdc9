/// Engine settings that do not fit together (``EngineSettings/validate()``): a configuration
/// problem, exit status 2.
public struct SettingsError: CategorizedError, Equatable {
    /// Which setting is wrong; extended with static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, for logs.
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The slot length does not divide a day.
        public static let resolution = Code("resolution")
        /// A window length is missing, repeated, or not a whole number of slots or days.
        public static let windows = Code("windows")
        /// No level to aggregate.
        public static let levels = Code("levels")
        /// A negative duration.
        public static let duration = Code("duration")
    }

    /// Which setting is wrong.
    public var code: Code
    /// Why, for the operator.
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

    /// Equal when the code and message are.
    public static func == (a: SettingsError, b: SettingsError) -> Bool { a.code == b.code && a.message == b.message }
}
